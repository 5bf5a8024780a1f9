#include "UnicornShim.h"

static uc_err open_with_cpu_model(uc_engine **engine, int model) {
    uc_err err = uc_open(UC_ARCH_ARM, UC_MODE_THUMB, engine);
    if (err != UC_ERR_OK) return err;
    err = uc_ctl_set_cpu_model(*engine, model);
    if (err != UC_ERR_OK) {
        uc_close(*engine);
        *engine = NULL;
    }
    return err;
}

uc_err mixq_uc_open_cortex_m7(uc_engine **engine) {
    return open_with_cpu_model(engine, UC_CPU_ARM_CORTEX_M7);
}

uc_err mixq_uc_open_cortex_m4(uc_engine **engine) {
    return open_with_cpu_model(engine, UC_CPU_ARM_CORTEX_M4);
}

uc_err mixq_uc_hook_block(uc_engine *engine, uc_hook *handle, mixq_block_callback callback,
                          void *context, uint64_t begin, uint64_t end) {
    return uc_hook_add(engine, handle, UC_HOOK_BLOCK, (void *)callback, context, begin, end);
}

uc_err mixq_uc_hook_code(uc_engine *engine, uc_hook *handle, mixq_code_callback callback,
                         void *context, uint64_t begin, uint64_t end) {
    return uc_hook_add(engine, handle, UC_HOOK_CODE, (void *)callback, context, begin, end);
}

uc_err mixq_uc_hook_interrupt(uc_engine *engine, uc_hook *handle, mixq_interrupt_callback callback,
                              void *context) {
    return uc_hook_add(engine, handle, UC_HOOK_INTR, (void *)callback, context, (uint64_t)1, (uint64_t)0);
}

uc_err mixq_uc_hook_invalid_memory(uc_engine *engine, uc_hook *handle,
                                   mixq_invalid_memory_callback callback, void *context) {
    return uc_hook_add(engine, handle, UC_HOOK_MEM_INVALID, (void *)callback, context,
                       (uint64_t)1, (uint64_t)0);
}

uc_err mixq_uc_hook_memory(uc_engine *engine, uc_hook *handle, int types, mixq_memory_callback callback,
                           void *context, uint64_t begin, uint64_t end) {
    return uc_hook_add(engine, handle, types, (void *)callback, context, begin, end);
}

uc_err mixq_uc_flush_translations(uc_engine *engine) {
    return uc_ctl_remove_cache(engine, 0, UINT64_MAX);
}

uc_err mixq_uc_remove_translations(uc_engine *engine, uint64_t begin, uint64_t end) {
    return uc_ctl_remove_cache(engine, begin, end);
}
