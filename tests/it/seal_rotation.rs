//! Rotating the TOTP seal key (`vestibule mfa reseal`): seeds sealed under the previous key still open,
//! re-sealing moves them all to the current key, after which the previous key can go.

use secrecy::SecretString;

use crate::accounts::verified_account;
use crate::both;
use crate::support::{app, Backend};
use vestibule::core::mfa::seal::SeedSealer;
use vestibule::core::mfa::totp;
use vestibule::db;

async fn reseal_moves_every_seed_to_the_current_key(backend: Backend) {
    let app = app(backend).await;
    let email = "rotate@example.com";
    verified_account(&app, email).await;
    let account = db::accounts::find_by_email(&app.state.db.pool, email).await.unwrap().unwrap();
    let deps = app.state.deps();
    totp::start_enrolment(&deps, &account.id, 1_000, &mut rand::rng()).await.unwrap();
    let secret = totp::pending_enrolment(&deps, &account.id, email, 1_000).await.unwrap().unwrap().secret;

    // the key the server generated at start, now "previous"; a new current key
    let text = std::fs::read_to_string(app.dir.path().join("data/mfa-seal.key")).unwrap();
    let old = vestibule::server::keys::decode_key(&SecretString::from(text)).unwrap();
    let rotated = SeedSealer::new([9; 32], &[old]);
    let deps = vestibule::core::accounts::Deps { sealer: &rotated, ..app.state.deps() };
    assert_eq!(totp::pending_enrolment(&deps, &account.id, email, 1_000).await.unwrap().unwrap().secret, secret);

    assert_eq!(totp::reseal_all(&deps, &mut rand::rng()).await.unwrap(), 1);
    assert_eq!(totp::reseal_all(&deps, &mut rand::rng()).await.unwrap(), 0, "nothing left under the old key");
    let row = db::mfa::totp_for_account(&app.state.db.pool, &account.id).await.unwrap().unwrap();
    assert_eq!(row.key_id, rotated.current_key_id());

    // the old key can go: the seed opens under the new key alone, and no longer under the old one
    let only_new = SeedSealer::new([9; 32], &[]);
    let deps = vestibule::core::accounts::Deps { sealer: &only_new, ..app.state.deps() };
    assert_eq!(totp::pending_enrolment(&deps, &account.id, email, 1_000).await.unwrap().unwrap().secret, secret);
    assert!(totp::pending_enrolment(&app.state.deps(), &account.id, email, 1_000).await.is_err());
}
both!(reseal_moves_every_seed_to_the_current_key, reseal_moves_every_seed_to_the_current_key);

/// Token signing keys are sealed under the same key: resealing moves them too, and they load with the new
/// seal key alone (the JWKS keeps the same kids).
async fn reseal_moves_the_token_signing_keys_too(backend: Backend) {
    use vestibule::core::oidc::keys;
    let app = app(backend).await;
    let before = keys::load_or_create(&app.state.db, &app.state.sealer, 1_000, &mut rand::rng()).await.unwrap().jwks();

    let text = std::fs::read_to_string(app.dir.path().join("data/mfa-seal.key")).unwrap();
    let old = vestibule::server::keys::decode_key(&SecretString::from(text)).unwrap();
    let rotated = SeedSealer::new([9; 32], &[old]);
    assert_eq!(keys::reseal_all(&app.state.db, &rotated, &mut rand::rng()).await.unwrap(), 3);
    assert_eq!(keys::reseal_all(&app.state.db, &rotated, &mut rand::rng()).await.unwrap(), 0);

    let only_new = SeedSealer::new([9; 32], &[]);
    let after = keys::load_or_create(&app.state.db, &only_new, 1_001, &mut rand::rng()).await.unwrap().jwks();
    assert_eq!(before, after, "the same keys, now opened with the new seal key only");
    assert!(keys::load_or_create(&app.state.db, &app.state.sealer, 1_002, &mut rand::rng()).await.is_err());
}
both!(reseal_moves_the_token_signing_keys_too, reseal_moves_the_token_signing_keys_too);
