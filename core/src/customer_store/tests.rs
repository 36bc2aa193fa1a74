use super::*;

#[test]
fn create_open_and_refusals() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
    let path = dir.path().join("me.db");
    assert!(matches!(
        CustomerStore::open(&path),
        Err(CoreError::NotInitialized(_))
    ));
    let mut s = CustomerStore::create(&path)?;
    let id = s.customer_id().to_string();
    assert!(!s.account()?.signed_up);
    s.new_list("Groceries")?;
    drop(s);
    assert!(matches!(
        CustomerStore::create(&path),
        Err(CoreError::AlreadyInitialized(_))
    ));
    let mut again = CustomerStore::open_or_create(&path)?;
    assert_eq!(again.customer_id(), id, "the local id is kept");
    assert_eq!(again.lists()?.len(), 1);
    assert!(again.sync_config()?.is_none());
    Ok(())
}

#[test]
fn the_token_is_not_printed() {
    let cfg = CustomerSyncConfig {
        server: "https://s".into(),
        customer_id: "c".into(),
        device_id: "d".into(),
        token: "d.secret".into(),
        allow_insecure_http: false,
    };
    assert!(!format!("{cfg:?}").contains("secret"));
}
