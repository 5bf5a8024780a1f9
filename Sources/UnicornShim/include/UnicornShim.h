// Fixed-arity wrappers over Unicorn's C-variadic calls (uc_hook_add, uc_ctl), which Swift
// cannot call directly (docs/design.md#unicorn-facts). Nothing here holds state.
#ifndef MIXQ_UNICORN_SHIM_H
#define MIXQ_UNICORN_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

/// Opens an ARM engine in Thumb mode with the Cortex-M7 CPU model.
/// UC_MODE_MCLASS is deliberately not passed: with it Unicorn 2.0.1 silently models a
/// Cortex-M33 instead (docs/design.md#unicorn-facts).
uc_err mixq_uc_open_cortex_m7(uc_engine **engine);
/// Opens an ARM engine in Thumb mode with the Cortex-M4 CPU model (same rule for MCLASS).
uc_err mixq_uc_open_cortex_m4(uc_engine **engine);

typedef void (*mixq_block_callback)(uc_engine *engine, uint64_t address, uint32_t size, void *context);
typedef void (*mixq_code_callback)(uc_engine *engine, uint64_t address, uint32_t size, void *context);
typedef void (*mixq_interrupt_callback)(uc_engine *engine, uint32_t number, void *context);
typedef bool (*mixq_invalid_memory_callback)(uc_engine *engine, uc_mem_type type, uint64_t address,
                                             int size, int64_t value, void *context);

/// UC_HOOK_BLOCK over [begin, end] (begin > end means everywhere).
uc_err mixq_uc_hook_block(uc_engine *engine, uc_hook *handle, mixq_block_callback callback,
                          void *context, uint64_t begin, uint64_t end);
/// UC_HOOK_CODE over [begin, end].
uc_err mixq_uc_hook_code(uc_engine *engine, uc_hook *handle, mixq_code_callback callback,
                         void *context, uint64_t begin, uint64_t end);
/// UC_HOOK_INTR: CPU exceptions (BKPT, UDF, SVC, UsageFaults, ...).
uc_err mixq_uc_hook_interrupt(uc_engine *engine, uc_hook *handle, mixq_interrupt_callback callback,
                              void *context);
/// UC_HOOK_MEM_INVALID: unmapped accesses and protection violations (fetch, read, write).
uc_err mixq_uc_hook_invalid_memory(uc_engine *engine, uc_hook *handle,
                                   mixq_invalid_memory_callback callback, void *context);

typedef void (*mixq_memory_callback)(uc_engine *engine, uc_mem_type type, uint64_t address, int size,
                                     int64_t value, void *context);
/// UC_HOOK_MEM_READ and/or UC_HOOK_MEM_WRITE (`types`) over [begin, end] (begin > end means
/// everywhere): the cycle model's D-cache (Timing, `full` mode only).
uc_err mixq_uc_hook_memory(uc_engine *engine, uc_hook *handle, int types, mixq_memory_callback callback,
                           void *context, uint64_t begin, uint64_t end);

/// Drops every translated block, so code written at run time is translated anew.
uc_err mixq_uc_flush_translations(uc_engine *engine);

/// Drops the translated blocks holding code in [begin, end).
uc_err mixq_uc_remove_translations(uc_engine *engine, uint64_t begin, uint64_t end);

#endif
