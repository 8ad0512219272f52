//! TLS of one destination: the CA file (`openstack-ca-file`), certificate pins
//! (`openstack-tls-fingerprint`), and reading why a verification failed.
//!
//! Without a pin, reqwest's rustls verifies as usual (webpki's roots, the system's roots with
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`, plus the CA file). With a pin, [`PinVerifier`] accepts exactly
//! the pinned certificates and still checks the handshake signature with the provider's
//! algorithms. There is no path that skips verification.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::config::keys;
use crate::error::{Error, Result};

/// The largest CA file read (a system bundle is about 200 KiB).
const MAX_CA_FILE: u64 = 16 << 20;

/// SHA-256 of a certificate's DER.
pub(crate) fn fingerprint(der: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// A fingerprint as lowercase hex with colons, as `openssl x509 -fingerprint` shows it.
pub(crate) fn fingerprint_text(pin: &[u8; 32]) -> String {
    pin.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The certificates of `openstack-ca-file`, each checked to be usable as a trust anchor. A file
/// that is missing, unreadable, not PEM or without a certificate is an invalid-URL error naming
/// the option.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let bad = |problem: String| {
        Error::invalid_url(format!("option '{}' ({shown}) {problem}", keys::CA_FILE))
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(bad("is not a file".into()));
    }
    if meta.len() > MAX_CA_FILE {
        return Err(bad(format!(
            "is larger than {} MiB: not a CA bundle",
            MAX_CA_FILE >> 20
        )));
    }
    let data = std::fs::read(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(&data) {
        let cert = item.map_err(|e| bad(format!("is not a valid PEM file: {e}")))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(bad(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA's certificate in PEM form"
                .into(),
        ));
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            bad(format!(
                "holds a certificate (number {}) that cannot be a trust anchor: {e}",
                i + 1
            ))
        })?;
    }
    Ok(certs)
}

/// The error a [`PinVerifier`] gives for a certificate that is not pinned; [`describe`] reads
/// it back for the message.
#[derive(Debug)]
pub(crate) struct PinMismatch {
    /// The fingerprint the server presented.
    pub(crate) presented: [u8; 32],
}

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "certificate fingerprint {} is not pinned",
            fingerprint_text(&self.presented)
        )
    }
}

impl std::error::Error for PinMismatch {}

/// Accepts a server certificate exactly when its SHA-256 is pinned (whatever its issuer, names
/// or dates: that is what a pin is for), and checks the handshake signature against that
/// certificate's key, so the server must hold the pinned certificate's private key.
#[derive(Debug)]
struct PinVerifier {
    pins: Vec<[u8; 32]>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let presented = fingerprint(end_entity);
        if self.pins.contains(&presented) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch { presented })),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A rustls configuration that trusts only the pinned certificates, with the ring provider
/// reqwest uses too.
pub(crate) fn pinned_config(pins: &[[u8; 32]]) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            Error::new(
                crate::error::ErrorKind::Network,
                format!("could not set up TLS: {e}"),
            )
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinVerifier {
            pins: pins.to_vec(),
            algorithms,
        }))
        .with_no_client_auth();
    Ok(config)
}

/// A name from rustls's list of the names a certificate presents, which spells them as
/// `DnsName("host")` or `IpAddress(..)`: the quoted part when there is one.
fn shown_name(presented: &str) -> &str {
    match (presented.find('"'), presented.rfind('"')) {
        (Some(a), Some(b)) if b > a => &presented[a + 1..b],
        _ => presented,
    }
}

/// Why a certificate failed, and what helps: one clause for the message.
pub(crate) fn describe(err: &CertificateError, host: &str) -> String {
    const CA_HINT: &str = "give the CA's certificate (PEM) in openstack-ca-file, or to the whole process in SSL_CERT_FILE; for a self-signed server, pin its certificate with openstack-tls-fingerprint";
    let date = |t: &UnixTime| {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.as_secs());
        humantime::format_rfc3339_seconds(at).to_string()
    };
    match err {
        CertificateError::UnknownIssuer => format!(
            "is not signed by a certificate authority this destination trusts (unknown CA): {CA_HINT}"
        ),
        CertificateError::NotValidForName => format!(
            "is not valid for the name '{host}' (name mismatch): use the host name the certificate names in the URL (openstack-authuri, or the catalog's endpoint), or pin the certificate with openstack-tls-fingerprint"
        ),
        CertificateError::NotValidForNameContext { presented, .. } => format!(
            "is not valid for the name '{host}' (name mismatch; it names {}): use the host name the certificate names in the URL (openstack-authuri, or the catalog's endpoint), or pin the certificate with openstack-tls-fingerprint",
            if presented.is_empty() {
                "nothing".to_string()
            } else {
                presented
                    .iter()
                    .map(|p| shown_name(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        CertificateError::Expired => {
            "has expired: the server's certificate must be renewed (or pinned with openstack-tls-fingerprint)".to_string()
        }
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "has expired (valid until {}): the server's certificate must be renewed (or pinned with openstack-tls-fingerprint)",
            date(not_after)
        ),
        CertificateError::NotValidYet => {
            "is not valid yet: check this machine's clock".to_string()
        }
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "is not valid yet (valid from {}): check this machine's clock",
            date(not_before)
        ),
        CertificateError::Revoked => "has been revoked".to_string(),
        CertificateError::Other(OtherError(inner)) => match inner.downcast_ref::<PinMismatch>() {
            Some(m) => format!(
                "does not match openstack-tls-fingerprint (fingerprint mismatch; the server presented SHA-256 {}): check the pin, or the server's certificate changed",
                fingerprint_text(&m.presented)
            ),
            None => format!("could not be verified ({inner})"),
        },
        other => format!("could not be verified ({other:?}): {CA_HINT}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256() {
        // SHA-256 of "abc" (FIPS 180-2's example).
        assert_eq!(
            fingerprint_text(&fingerprint(b"abc")).replace(':', ""),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn ca_file_errors_name_the_option() {
        let dir = std::env::temp_dir().join(format!("osd-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, b"this is no certificate\n").unwrap();
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            b"-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let not_a_cert = dir.join("not-a-cert.pem");
        std::fs::write(
            &not_a_cert,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for (path, words) in [
            (dir.join("missing.pem"), "cannot be read"),
            (dir.clone(), "is not a file"),
            (garbage, "holds no PEM certificate"),
            (broken, "is not a valid PEM file"),
            (not_a_cert, "cannot be a trust anchor"),
        ] {
            let e = read_ca_file(&path).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidUrl, "{e}");
            assert!(e.message().contains("openstack-ca-file"), "{e}");
            assert!(e.message().contains(words), "{path:?}: {e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn messages_say_why_and_what_helps() {
        let unknown = describe(&CertificateError::UnknownIssuer, "h");
        assert!(unknown.contains("unknown CA") && unknown.contains("openstack-ca-file"));
        assert!(unknown.contains("SSL_CERT_FILE"));
        let name = describe(&CertificateError::NotValidForName, "h.example");
        assert!(name.contains("name mismatch") && name.contains("'h.example'"));
        let name = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("h.example").unwrap(),
            presented: vec![r#"DnsName("other.invalid")"#.into(), "odd".into()],
        };
        assert!(describe(&name, "h.example").contains("it names other.invalid, odd)"));
        assert!(describe(&CertificateError::Expired, "h").contains("expired"));
        let pin = CertificateError::Other(OtherError(Arc::new(PinMismatch {
            presented: [0xab; 32],
        })));
        let pin = describe(&pin, "h");
        assert!(pin.contains("openstack-tls-fingerprint") && pin.contains("ab:ab:ab"));
    }
}
