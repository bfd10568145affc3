//! The `serde` feature: QMP `set-numa-node` arguments and `object-add`
//! properties with QEMU's field names.

use vnuma_options::*;

#[test]
fn set_numa_node_arguments() {
    let cases = [
        (r#"{"type":"node","nodeid":0,"memdev":"ram"}"#, "node,nodeid=0,memdev=ram"),
        (r#"{"type":"node","nodeid":1,"cpus":[0,1,5],"mem":1048576}"#, "node,nodeid=1,cpus=0,cpus=1,cpus=5,mem=1M"),
        (r#"{"type":"dist","src":0,"dst":1,"val":21}"#, "dist,src=0,dst=1,val=21"),
        (r#"{"type":"cpu","node-id":0,"socket-id":1}"#, "cpu,node-id=0,socket-id=1"),
        (
            r#"{"type":"hmat-lb","initiator":0,"target":1,"hierarchy":"memory","data-type":"access-bandwidth","bandwidth":34358689792}"#,
            "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=32767M",
        ),
        (
            r#"{"type":"hmat-cache","node-id":0,"size":10240,"level":1,"associativity":"direct","policy":"write-back","line":8}"#,
            "hmat-cache,node-id=0,size=10K,level=1,associativity=direct,policy=write-back,line=8",
        ),
    ];
    for (json, cli) in cases {
        let from_json: NumaOptions = serde_json::from_str(json).unwrap();
        assert_eq!(from_json.to_string(), cli, "{json}");
        // Back to JSON and again: stable.
        let again: NumaOptions =
            serde_json::from_str(&serde_json::to_string(&from_json).unwrap()).unwrap();
        assert_eq!(again, from_json);
    }
    // QMP `mem` is bytes: no MiB fix-up.
    let n: NumaOptions = serde_json::from_str(r#"{"type":"node","mem":512}"#).unwrap();
    assert_eq!(
        n,
        NumaOptions::Node(NumaNodeOptions {
            mem: Some(512),
            ..Default::default()
        })
    );
    // Unknown fields and types are refused.
    assert!(serde_json::from_str::<NumaOptions>(r#"{"type":"node","foo":1}"#).is_err());
    assert!(serde_json::from_str::<NumaOptions>(r#"{"type":"nodes"}"#).is_err());
    assert!(
        serde_json::from_str::<NumaOptions>(r#"{"type":"dist","src":0,"dst":1,"val":256}"#)
            .is_err()
    );
}

#[test]
fn object_add_properties() {
    let json = r#"{"qom-type":"memory-backend-file","id":"m0","size":2097152,"mem-path":"/dev/hugepages","host-nodes":[0,1],"policy":"bind","prealloc":true}"#;
    let b: MemoryBackendOptions = serde_json::from_str(json).unwrap();
    assert_eq!(
        b.to_string(),
        "memory-backend-file,id=m0,host-nodes=0,host-nodes=1,policy=bind,prealloc=on,size=2M,mem-path=/dev/hugepages"
    );
    let v: serde_json::Value = serde_json::to_value(&b).unwrap();
    assert_eq!(v["qom-type"], "memory-backend-file");
    assert_eq!(v["host-nodes"], serde_json::json!([0, 1]));
    // A memfd-only property on a file backend is refused.
    let bad =
        r#"{"qom-type":"memory-backend-file","id":"m0","size":1,"mem-path":"/x","seal":true}"#;
    assert!(serde_json::from_str::<MemoryBackendOptions>(bad).is_err());
    // The JSON -object form uses QEMU's messages.
    let e = ObjectOptions::parse_json(r#"{"qom-type":"memory-backend-ram","id":"m","size":"1M"}"#)
        .unwrap_err();
    assert_eq!(e.to_string(), "Parameter 'size' expects uint64");
    let e = ObjectOptions::parse_json(
        r#"{"qom-type":"memory-backend-ram","id":"m","size":1,"merge":1}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid parameter type for 'merge', expected: boolean"
    );
    let e = ObjectOptions::parse_json(
        r#"{"qom-type":"memory-backend-ram","id":"m","size":1,"host-nodes":[70000]}"#,
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "Parameter 'host-nodes[0]' expects uint16_t");
    let e = ObjectOptions::parse_json(r#"{"qom-type":"memory-backend-ram","size":1}"#).unwrap_err();
    assert_eq!(e.to_string(), "Parameter 'id' is missing");
}
