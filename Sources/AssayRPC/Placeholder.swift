// AssayRPC
