fn main() -> std::process::ExitCode {
    ertag::cli::main()
}
