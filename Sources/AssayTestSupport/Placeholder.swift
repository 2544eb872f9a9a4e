// AssayTestSupport
