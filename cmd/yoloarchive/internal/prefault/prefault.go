// Package prefault maps in, as the program starts, the memory every
// command touches first, so that the kernel does not take one page fault
// per 4 KiB page of it.
//
// On the virtual machines the program was measured on, a page fault costs
// about 10 µs, and faults were most of the time a short command took:
// `--version` took ~690 of them (perf stat), `verify` of a small archive
// ~950. Two kinds are avoidable:
//
//   - the program's code, mapped from the executable and faulted in 64 KiB
//     at a time as it first runs. Its mapping (~12 MB) is populated in one
//     call (MADV_POPULATE_READ, Linux 5.14).
//   - the Go heap, whose pages fault one by one as they are first
//     allocated. The 2 MiB around the heap's first objects becomes one
//     transparent huge page (MADV_COLLAPSE, Linux 6.1). Where that worked,
//     the rest of the heap the runtime has mapped so far (its first 4 MiB
//     chunk) is advised to be allocated in huge pages (MADV_HUGEPAGE). The
//     runtime maps the heap 4 MiB at a time as it grows, and a new mapping
//     does not keep the advice: at most 4 MiB of a long command's heap is
//     ever in huge pages.
//
// `--version` then takes ~430 faults, and 14 ms instead of 17. The cost is
// resident memory: the whole text segment and a 2 MiB page count in the
// peak RSS (15 → 22 MB for `--version`), and the first run after the
// executable is copied reads all of its code from disk.
//
// The package has no exported API: importing it runs it, first among the
// program's packages that can (it imports only errors, os, syscall and
// unsafe, so that it initialises before the libraries whose init touches
// most pages).
// Kernels without an advice refuse it, and the memory faults in as
// before. YOLOARCHIVE_PREFAULT=0 turns it off, and GODEBUG=disablethp=1
// (the Go runtime's own switch for huge pages) turns off its heap part,
// as do transparent huge pages set to "never" by the administrator and a
// page size other than 4 KiB.
package prefault
