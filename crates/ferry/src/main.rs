use std::process::ExitCode;

fn main() -> ExitCode {
    ferry::main()
}
