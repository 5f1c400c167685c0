//! The config `make up` starts webd with loads (a key in the wrong TOML
//! table is an error at start, which only running the daemon shows).

#[test]
fn the_deploy_config_loads() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_webd"))
        .args(["--config", "../deploy/config/webd.toml", "--print-config"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("metrics_listen = \"127.0.0.1:9190\""),
        "{printed}"
    );
}
