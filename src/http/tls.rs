//! The TLS algorithms we offer, as a rustls `CryptoProvider`.

use rustls::crypto::{ring as suites, CryptoProvider, KeyProvider, SecureRandom};
use rustls::crypto::{GetRandomFailed, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::SignatureScheme;
use std::sync::Arc;
use webpki::ring as sig;

/// The TLS algorithms we offer: what AWS service endpoints and hooks.slack.com
/// negotiate, and nothing the binary would carry for nobody.
///
/// - Versions: TLS 1.3 and 1.2. AWS endpoints require at least 1.2; Slack's
///   published list for its API and webhooks names only TLS 1.2 suites.
/// - Ciphers: AES-GCM only. TLS 1.3 makes TLS_AES_128_GCM_SHA256 mandatory
///   (RFC 8446 §9.1); for 1.2 Slack publishes ECDHE-RSA-AES128/256-GCM.
///   ChaCha20-Poly1305 only helps CPUs without AES instructions, and Lambda's
///   x86_64 and Graviton CPUs all have them.
/// - Key exchange: X25519, then P-256 (the group TLS 1.3 makes mandatory).
/// - Certificates: RSA (PKCS#1 and PSS) and ECDSA P-256/P-384: what public CAs,
///   Amazon Trust Services among them, sign with. No Ed25519: no public CA issues it.
/// - No client certificates, so no private-key code.
pub(super) fn crypto() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            suites::cipher_suite::TLS13_AES_128_GCM_SHA256,
            suites::cipher_suite::TLS13_AES_256_GCM_SHA384,
            suites::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            suites::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            suites::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            suites::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![suites::kx_group::X25519, suites::kx_group::SECP256R1],
        signature_verification_algorithms: SIGNATURES,
        secure_random: &Random,
        key_provider: &NoClientKeys,
    }
}

static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        sig::ECDSA_P256_SHA256,
        sig::ECDSA_P256_SHA384,
        sig::ECDSA_P384_SHA256,
        sig::ECDSA_P384_SHA384,
        sig::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        sig::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        sig::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        sig::RSA_PKCS1_2048_8192_SHA256,
        sig::RSA_PKCS1_2048_8192_SHA384,
        sig::RSA_PKCS1_2048_8192_SHA512,
    ],
    mapping: &[
        // In TLS 1.2 the scheme does not fix the curve; in TLS 1.3 it does.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[sig::ECDSA_P384_SHA384, sig::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[sig::ECDSA_P256_SHA256, sig::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[sig::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[sig::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[sig::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[sig::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[sig::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[sig::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// The operating system's CSPRNG (getrandom), through ring.
#[derive(Debug)]
struct Random;

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| GetRandomFailed)
    }
}

/// We never present a client certificate; refusing keys keeps RSA/ECDSA
/// signing code out of the binary.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "client certificates are not supported".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    //! Handshakes of our CryptoProvider, in memory, against rustls servers set up like
    //! the endpoints we talk to. Certificates: tests/tls/ (test roots, valid until 2126).
    use super::crypto;
    use rustls::crypto::ring::{cipher_suite as cs, default_provider, kx_group};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::version::{TLS12, TLS13};
    use rustls::{CipherSuite, NamedGroup, ProtocolVersion, SupportedProtocolVersion};
    use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig};
    use rustls::{ServerConnection, SupportedCipherSuite};
    use std::sync::Arc;

    const RSA_ROOT: &[u8] = include_bytes!("../../tests/tls/rsa-ca.pem");
    const RSA_LEAF: &[u8] = include_bytes!("../../tests/tls/rsa-leaf.pem");
    const RSA_KEY: &[u8] = include_bytes!("../../tests/tls/rsa-leaf.key");
    const ECDSA_ROOT: &[u8] = include_bytes!("../../tests/tls/ecdsa-ca.pem");
    const ECDSA_LEAF: &[u8] = include_bytes!("../../tests/tls/ecdsa-leaf.pem");
    const ECDSA_KEY: &[u8] = include_bytes!("../../tests/tls/ecdsa-leaf.key");

    static TLS13_ONLY: &[&SupportedProtocolVersion] = &[&TLS13];
    static TLS12_ONLY: &[&SupportedProtocolVersion] = &[&TLS12];

    struct Server {
        leaf: &'static [u8],
        key: &'static [u8],
        versions: &'static [&'static SupportedProtocolVersion],
        suites: Vec<SupportedCipherSuite>,
        groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
    }

    impl Server {
        /// A TLS 1.3 and 1.2 server with every algorithm ring offers.
        fn modern(leaf: &'static [u8], key: &'static [u8]) -> Server {
            let all = default_provider();
            Server {
                leaf,
                key,
                versions: rustls::ALL_VERSIONS,
                suites: all.cipher_suites,
                groups: all.kx_groups,
            }
        }
    }

    /// The client is configured as ureq configures it (all versions) with our
    /// provider; only the roots differ. Returns what was negotiated.
    fn handshake(
        server: Server,
    ) -> Result<(ProtocolVersion, CipherSuite, NamedGroup), rustls::Error> {
        let mut roots = RootCertStore::empty();
        for pem in [RSA_ROOT, ECDSA_ROOT] {
            roots
                .add(CertificateDer::from_pem_slice(pem).expect("root"))
                .expect("root added");
        }
        let client_config = ClientConfig::builder_with_provider(Arc::new(crypto()))
            .with_protocol_versions(rustls::ALL_VERSIONS)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut server_provider = default_provider();
        server_provider.cipher_suites = server.suites;
        server_provider.kx_groups = server.groups;
        let server_config = ServerConfig::builder_with_provider(Arc::new(server_provider))
            .with_protocol_versions(server.versions)?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(server.leaf).expect("leaf")],
                PrivateKeyDer::from_pem_slice(server.key).expect("key"),
            )?;
        let name = "localhost".try_into().expect("name");
        let mut client = Connection::Client(ClientConnection::new(Arc::new(client_config), name)?);
        let mut server = Connection::Server(ServerConnection::new(Arc::new(server_config))?);
        for _ in 0..10 {
            if !client.is_handshaking() && !server.is_handshaking() {
                let version = client.protocol_version().expect("version");
                let suite = client.negotiated_cipher_suite().expect("suite").suite();
                let group = client.negotiated_key_exchange_group().expect("kx").name();
                return Ok((version, suite, group));
            }
            // Whichever side fails first says why; its peer would only see the alert.
            transfer(&mut client, &mut server)?;
            transfer(&mut server, &mut client)?;
        }
        panic!("the handshake did not finish");
    }

    /// Moves every pending TLS record from one side to the other.
    fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), rustls::Error> {
        let mut wire = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut wire).expect("write to a Vec");
        }
        let mut rest = &wire[..];
        while !rest.is_empty() {
            to.read_tls(&mut rest).expect("read from a slice");
            to.process_new_packets()?;
        }
        Ok(())
    }

    #[test]
    fn tls13_with_an_rsa_certificate_like_aws() {
        let got = handshake(Server::modern(RSA_LEAF, RSA_KEY)).expect("handshake");
        assert_eq!(
            got,
            (
                ProtocolVersion::TLSv1_3,
                CipherSuite::TLS13_AES_128_GCM_SHA256,
                NamedGroup::X25519
            )
        );
    }

    #[test]
    fn tls12_with_the_suites_slack_publishes() {
        for suite in [
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ] {
            let server = Server {
                versions: TLS12_ONLY,
                suites: vec![suite],
                ..Server::modern(RSA_LEAF, RSA_KEY)
            };
            let (version, got, _) = handshake(server).expect("handshake");
            assert_eq!((version, got), (ProtocolVersion::TLSv1_2, suite.suite()));
        }
    }

    #[test]
    fn a_server_without_x25519_gets_p256_after_a_retry() {
        let server = Server {
            groups: vec![kx_group::SECP256R1],
            ..Server::modern(RSA_LEAF, RSA_KEY)
        };
        let (_, _, group) = handshake(server).expect("handshake");
        assert_eq!(group, NamedGroup::secp256r1);
    }

    #[test]
    fn ecdsa_p256_leaf_under_a_p384_root() {
        for versions in [TLS13_ONLY, TLS12_ONLY] {
            let server = Server {
                versions,
                ..Server::modern(ECDSA_LEAF, ECDSA_KEY)
            };
            let (version, _, _) = handshake(server).expect("handshake");
            assert_eq!(version, versions[0].version);
        }
    }

    #[test]
    fn chacha20_and_p384_only_servers_are_refused() {
        // What we left out, so that the trim cannot be undone by accident.
        let chacha = Server {
            suites: vec![cs::TLS13_CHACHA20_POLY1305_SHA256],
            versions: TLS13_ONLY,
            ..Server::modern(RSA_LEAF, RSA_KEY)
        };
        assert!(handshake(chacha).is_err());
        let p384 = Server {
            groups: vec![kx_group::SECP384R1],
            ..Server::modern(RSA_LEAF, RSA_KEY)
        };
        assert!(handshake(p384).is_err());
    }
}
