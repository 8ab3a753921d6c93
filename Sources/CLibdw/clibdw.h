/* elfutils' libdwfl and libdw (Debian's libdw-dev), for source lines and
   inlined frames at report time (SwallocReport/SourceLines.swift). */
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <gelf.h>

/* The callbacks for offline modules (files on disk, not a live process):
   separate debug information found by build-id, .gnu_debuglink and the
   standard paths. A static table: Swift cannot take these functions'
   addresses into a struct as C can. */
static inline const Dwfl_Callbacks *swalloc_dwfl_offline_callbacks(void) {
    static char *debuginfo_path = NULL;
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = &debuginfo_path,
    };
    return &callbacks;
}
