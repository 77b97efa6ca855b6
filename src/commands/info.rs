//! `ertag info`: what the runtime sees. It also proves libtorch loads without LD_LIBRARY_PATH.

pub fn print() {
    println!("ertag {}", env!("CARGO_PKG_VERSION"));
    println!("intra-op threads: {}", tch::get_num_threads());
    println!("cuda available: {}", tch::Cuda::is_available());
    println!("cuda devices: {}", tch::Cuda::device_count());
    // A real tensor operation: fails loudly if libtorch is not usable.
    let t = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
    println!(
        "libtorch check: sum([1, 2, 3]) = {}",
        t.sum(tch::Kind::Float).double_value(&[])
    );
}
