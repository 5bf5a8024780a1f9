import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def spec():
    from mixq_training.plan import network_spec
    return network_spec("mnist_mobilenet_v1_0.25_32")


@pytest.fixture(scope="session")
def repo():
    return os.path.dirname(os.path.dirname(HERE))


@pytest.fixture(scope="session")
def mixed_plan(repo):
    """The committed mixpc 96k/3k plan: weights and activations at 8, 4 and 2 bits."""
    from mixq_training.plan import load_plan
    return load_plan(os.path.join(repo, "data", "models",
                                  "mnist_mobilenet_v1_0.25_32__mixpc__96k_3k.plan.json"))


@pytest.fixture(scope="session")
def splits():
    from mixq_training.data import load_splits
    return load_splits()
