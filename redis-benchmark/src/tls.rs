//! `--tls` and its flags, as Redis's tool built with OpenSSL takes them: the CA to verify
//! with (`--cacert`, `--cacertdir`, else the system's bundle), `--insecure`, a client
//! certificate (`--cert`, `--key`), `--sni`, and the cipher lists in OpenSSL's names
//! (`--tls-ciphers` for TLS 1.2, `--tls-ciphersuites` for TLS 1.3). The set-up itself is
//! `common::tls`, shared with redis-cli.

use std::sync::{Arc, OnceLock};

use common::tls::ClientOptions;
use common::tls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

/// The TLS flags of the command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TlsOptions {
    pub(crate) enabled: bool,
    pub(crate) client: ClientOptions,
}

/// What every connection of the process uses once `--tls` is set up.
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) connector: TlsConnector,
    client: ClientOptions,
}

static TLS: OnceLock<Tls> = OnceLock::new();

/// The process's TLS set-up, if `--tls` was given.
pub(crate) fn get() -> Option<&'static Tls> {
    TLS.get()
}

/// Builds the TLS set-up from the flags and makes every later connection use it.
pub(crate) fn init(o: &TlsOptions) -> Result<(), String> {
    let tls = Tls {
        connector: TlsConnector::from(Arc::new(common::tls::client_config(&o.client)?)),
        client: o.client.clone(),
    };
    // A second init (never done) would keep the first set-up.
    let _ = TLS.set(tls);
    Ok(())
}

/// The name sent as SNI: `--sni`, else the host.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    match get() {
        Some(tls) => tls.client.server_name(host),
        None => ClientOptions::default().server_name(host),
    }
}
