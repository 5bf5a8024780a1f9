/*
 * profile_calls.c - a firmware whose call structure is known, for `mixq run --profile` tests.
 *
 * Calls made (Tests/ProfilingTests check each count and calling context):
 *   main -> work            3 calls; each work -> leaf 4 calls (leaf: 12 calls, only from work)
 *   main -> recurse(5)      recurse calls itself down to recurse(0): 6 calls, 6 levels deep
 *   main -> leaf_b          2 calls through a function pointer (BLX register)
 *   main -> tail_caller     3 calls; each ends in a tail call (B, not BL) to tail_target, so
 *                           tail_target runs 3 times in main's context, never under tail_caller
 * leaf's loop (the line marked HOT LINE and the `for` line above it, where GCC puts the
 * counter and the branch) holds nearly all of leaf's cycles.
 *
 * Exit status: 0 when every result matches the values computed below by hand, else 1.
 * noipa keeps GCC from inlining, cloning or merging the functions at -O3.
 */
#include <stdint.h>

volatile int sink;

__attribute__((noipa)) int leaf(int x)
{
    int sum = 0;
    for (int i = 0; i < 50; ++i) {
        sum += (x * i) ^ (sum >> 3); /* HOT LINE */
    }
    return sum;
}

__attribute__((noipa)) int work(int x)
{
    int total = 0;
    for (int k = 0; k < 4; ++k) {
        total += leaf(x + k);
    }
    return total;
}

/* Not a tail call: the volatile store after the recursive call keeps it a real call. */
__attribute__((noipa)) int recurse(int n)
{
    if (n == 0) {
        return 1;
    }
    int inner = recurse(n - 1);
    sink = inner;
    return inner * 2 + n;
}

__attribute__((noipa)) int leaf_b(int x)
{
    sink = x;
    return x + 7;
}

__attribute__((noipa)) int tail_target(int x)
{
    sink = x;
    return x * 3;
}

/* -O3 turns the final call into a branch: a tail call. */
__attribute__((noipa)) int tail_caller(int x)
{
    sink = x;
    return tail_target(x + 1);
}

int (*volatile through_pointer)(int) = leaf_b;

/* The same computation on plain integers, for the self-check. */
static int expected_leaf(int x)
{
    int sum = 0;
    for (int i = 0; i < 50; ++i) {
        sum += (x * i) ^ (sum >> 3);
    }
    return sum;
}

int main(void)
{
    int ok = 1;
    for (int j = 0; j < 3; ++j) {
        int want = 0;
        for (int k = 0; k < 4; ++k) {
            want += expected_leaf(j + k);
        }
        sink = want;
        ok &= work(j) == sink;
    }
    /* recurse(n) = 2 * recurse(n - 1) + n with recurse(0) = 1: 1, 3, 8, 19, 42, 89. */
    ok &= recurse(5) == 89;
    ok &= through_pointer(1) == 8;
    ok &= through_pointer(2) == 9;
    for (int j = 0; j < 3; ++j) {
        ok &= tail_caller(j) == 3 * (j + 1);
    }
    return ok ? 0 : 1;
}
