//! TLS to PostgreSQL, chosen by `sslmode` in `DATABASE_URL` as libpq reads it: `disable` (the
//! default here), `prefer` and `require` (encrypted, server not authenticated), `verify-ca`
//! (certificate checked against the roots) and `verify-full` (and the host name). The roots are
//! `sslrootcert` (a PEM file) when given, else the system's.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;

use crate::store::StoreError;

/// How to connect: the driver's settings and, unless TLS is off, the TLS client settings.
pub(super) struct Connection {
    pub config: tokio_postgres::Config,
    pub tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

fn invalid(message: String) -> StoreError {
    StoreError::Invalid(format!("DATABASE_URL: {message}"))
}

/// Reads `url`, taking out the options the driver does not know (`sslmode` values beyond
/// `require`, `sslrootcert`).
pub(super) fn connection(url: &str) -> Result<Connection, StoreError> {
    let (rest, options) = take_options(url, &["sslmode", "sslrootcert"]);
    let mode = match options[0].as_deref() {
        None | Some("disable") => Mode::Disable,
        Some("prefer") => Mode::Prefer,
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        Some(other) => return Err(invalid(format!("unknown sslmode {other:?}"))),
    };
    let mut config: tokio_postgres::Config = rest
        .parse()
        .map_err(|e: tokio_postgres::Error| invalid(e.to_string()))?;
    if mode == Mode::Disable {
        config.ssl_mode(SslMode::Disable);
        return Ok(Connection { config, tls: None });
    }
    config.ssl_mode(if mode == Mode::Prefer {
        SslMode::Prefer
    } else {
        SslMode::Require
    });
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = Arc::new(roots(options[1].as_deref())?);
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        Mode::VerifyFull | Mode::VerifyCa => {
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| invalid(format!("certificate roots: {e}")))?;
            Arc::new(Checked {
                inner: webpki,
                check_name: mode == Mode::VerifyFull,
            })
        }
        _ => Arc::new(EncryptOnly(provider.clone())),
    };
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Connection {
        config,
        tls: Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls)),
    })
}

/// Splits the named options out of a URL's query string or a `key=value` string.
fn take_options(url: &str, names: &[&str]) -> (String, Vec<Option<String>>) {
    let mut found = vec![None; names.len()];
    let mut keep = |pair: &str| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match names.iter().position(|n| *n == key) {
            Some(i) => {
                found[i] = Some(
                    percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
                false
            }
            None => true,
        }
    };
    let rest = if url.contains("://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query.split('&').filter(|p| keep(p)).collect();
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        }
    } else {
        url.split_whitespace()
            .filter(|p| keep(p))
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, found)
}

fn roots(file: Option<&str>) -> Result<RootCertStore, StoreError> {
    let mut roots = RootCertStore::empty();
    match file {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?
            {
                let cert = cert.map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    Ok(roots)
}

/// `verify-full`, or `verify-ca` (the chain is checked, the host name is not).
#[derive(Debug)]
struct Checked {
    inner: Arc<WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `prefer` and `require`: libpq encrypts without authenticating the server in these modes;
/// the handshake's signatures are still checked.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_are_taken_out_of_both_url_forms() {
        let (rest, found) = take_options(
            "postgres://rag@db:5432/rag?application_name=rag&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
            &["sslmode", "sslrootcert"],
        );
        assert_eq!(rest, "postgres://rag@db:5432/rag?application_name=rag");
        assert_eq!(
            found,
            [Some("verify-full".into()), Some("/etc/ca.pem".into())]
        );
        let (rest, found) = take_options("host=db user=rag sslmode=require", &["sslmode"]);
        assert_eq!(rest, "host=db user=rag");
        assert_eq!(found, [Some("require".into())]);
        assert!(connection("postgres://db/rag?sslmode=sometimes").is_err());
    }
}
