// jemalloc for the whole process, libtorch's tensors included: the unprefixed build replaces
// malloc and free. glibc's heap kept hundreds of MB of freed tensor memory it could not reuse
// (peak RSS 860 MB against 480 MB on `make bench`'s long documents).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read at start-up (`MALLOC_CONF` in the environment still overrides).
/// Tensors of 8 MiB and more would go to an arena that returns pages to the system at once, and
/// dirty pages would be returned after 10 s: either way every batch's activations fault their
/// pages in afresh, which made annotation 1.5 times slower. Kept, they are reused.
#[export_name = "malloc_conf"]
pub static MALLOC_CONF: &[u8; 39] = b"oversize_threshold:0,dirty_decay_ms:-1\0";

fn main() -> std::process::ExitCode {
    ertag::cli::main()
}
