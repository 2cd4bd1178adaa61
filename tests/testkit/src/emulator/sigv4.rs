//! An independent AWS Signature Version 4 (AWS4-HMAC-SHA256) implementation, written on the bare
//! `hmac` + `sha2` + `hex` primitives so that the Secrets Manager stand-in does not check the
//! bootstrap's signatures with the very library that produced them.
//!
//! Steps (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
//! canonical request -> string to sign -> signing key -> signature.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// One HTTP request as it was (or will be) sent on the wire.
pub struct Request<'a> {
    pub method: &'a str,
    /// The request target as received: raw path plus optional `?query`, still percent-encoded.
    pub target: &'a str,
    /// Header names in any case; repeated names are allowed.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    pub region: String,
    pub service: String,
    pub terminator: String,
    /// Lower-case names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
/// SignedHeaders=a;b, Signature=hex`.
pub fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let value = value.trim();
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| format!("Authorization does not start with {ALGORITHM}"))?;
    if !rest.starts_with(' ') {
        return Err(format!("Authorization does not start with {ALGORITHM}"));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let (key, val) = part
            .split_once('=')
            .ok_or_else(|| format!("Authorization component without '=': {part:?}"))?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            other => return Err(format!("unknown Authorization component {other:?}")),
        };
        if slot.replace(val.to_string()).is_some() {
            return Err(format!("Authorization component {key} given twice"));
        }
    }
    let credential = credential.ok_or("Authorization lacks Credential")?;
    let signed = signed.ok_or("Authorization lacks SignedHeaders")?;
    let signature = signature.ok_or("Authorization lacks Signature")?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(format!(
            "Credential should have 5 '/'-separated parts, got {credential:?}"
        ));
    };
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        terminator: terminator.to_string(),
        signed_headers: signed.split(';').map(str::to_string).collect(),
        signature,
    })
}

/// RFC 3986 unreserved characters are kept, every other byte becomes `%XX` (upper-case hex).
fn uri_encode(input: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (a malformed escape is kept literally).
pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Canonical URI for every service but S3: the path with dot segments removed, each segment
/// URI-encoded once more (the path on the wire is already encoded once, so this is the
/// "double encoding" the spec asks for). An empty path is `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_string();
    }
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = raw_path.split('/').collect();
    let last = parts.len() - 1;
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    segments.push("");
                }
            }
            ".." => {
                if segments.len() > 1 {
                    segments.pop();
                }
                if i == last {
                    segments.push("");
                }
            }
            s => segments.push(s),
        }
    }
    let joined = segments.join("/");
    let joined = if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    };
    uri_encode(&joined, true)
}

/// Canonical query string: each name and value decoded then strictly re-encoded, pairs sorted
/// by name then value, joined with `&`; a name without `=` gets an empty value.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Trims and collapses runs of spaces inside a header value.
fn canonical_header_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds the canonical request over `signed_headers` (lower-case names). Every signed header
/// must be present in the request; repeated headers are joined with `,` in arrival order.
pub fn canonical_request(req: &Request<'_>, signed_headers: &[String]) -> Result<String, String> {
    let (path, query) = req.target.split_once('?').unwrap_or((req.target, ""));
    let mut names: Vec<String> = signed_headers.iter().map(|h| h.to_lowercase()).collect();
    names.sort();
    names.dedup();
    let mut canonical_headers = String::new();
    for name in &names {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| canonical_header_value(v))
            .collect();
        if values.is_empty() {
            return Err(format!("signed header {name:?} is not in the request"));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(path),
        canonical_query(query),
        canonical_headers,
        names.join(";"),
        hex::encode(Sha256::digest(req.body).as_slice()),
    ))
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()).as_slice())
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC-SHA256 accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(
        format!("AWS4{secret_access_key}").as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

pub fn signature(signing_key: &[u8], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// The signature the request should carry, given the parsed Authorization (its scope and
/// signed headers), the `X-Amz-Date` value and the secret key.
pub fn expected_signature(
    req: &Request<'_>,
    auth: &Authorization,
    amz_date: &str,
    secret_access_key: &str,
) -> Result<String, String> {
    let canonical = canonical_request(req, &auth.signed_headers)?;
    let to_sign = string_to_sign(amz_date, &auth.scope(), &canonical);
    let key = signing_key(secret_access_key, &auth.date, &auth.region, &auth.service);
    Ok(signature(&key, &to_sign))
}

/// Whether `req` carries the signature its Authorization (`auth`) claims: `Err` with the
/// message to answer, AWS's own wording for a mismatch.
pub fn verify(
    req: &Request<'_>,
    auth: &Authorization,
    amz_date: &str,
    secret_access_key: &str,
) -> Result<(), String> {
    let expected = expected_signature(req, auth, amz_date, secret_access_key)?;
    if signatures_equal(&expected, &auth.signature) {
        return Ok(());
    }
    Err(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service \
         documentation for details."
            .to_string(),
    )
}

/// Constant-time comparison of two signatures (hex strings).
pub fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Signs `req` and returns the `Authorization` header value. `amz_date` is `YYYYMMDDTHHMMSSZ`;
/// the request must already carry every header in `signed_headers` (including `x-amz-date`).
pub fn authorization_header(
    req: &Request<'_>,
    access_key_id: &str,
    secret_access_key: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    signed_headers: &[&str],
) -> Result<String, String> {
    let mut names: Vec<String> = signed_headers.iter().map(|h| h.to_lowercase()).collect();
    names.sort();
    names.dedup();
    let auth = Authorization {
        access_key_id: access_key_id.to_string(),
        date: amz_date.get(..8).unwrap_or("").to_string(),
        region: region.to_string(),
        service: service.to_string(),
        terminator: "aws4_request".to_string(),
        signed_headers: names,
        signature: String::new(),
    };
    let sig = expected_signature(req, &auth, amz_date, secret_access_key)?;
    Ok(format!(
        "{ALGORITHM} Credential={access_key_id}/{}, SignedHeaders={}, Signature={sig}",
        auth.scope(),
        auth.signed_headers.join(";")
    ))
}

// ---- dates ----------------------------------------------------------------------------------

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYYMMDDTHHMMSSZ` into seconds since the epoch.
pub fn parse_amz_date(value: &str) -> Result<i64, String> {
    let bad = || format!("X-Amz-Date {value:?} is not YYYYMMDDTHHMMSSZ");
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let s = &value[r];
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse::<i64>().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Formats seconds since the epoch as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(epoch_secs: i64) -> String {
    let days = epoch_secs.div_euclid(86_400);
    let secs = epoch_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";

    fn headers(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut h = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), DATE.to_string()),
        ];
        h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h
    }

    fn sign(
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: &[u8],
        signed: &[&str],
    ) -> String {
        let req = Request {
            method,
            target,
            headers,
            body,
        };
        let value = authorization_header(&req, AKID, SECRET, "us-east-1", "service", DATE, signed)
            .expect("signing a test-suite request");
        let auth = parse_authorization(&value).expect("parsing our own Authorization header");
        assert_eq!(auth.access_key_id, AKID);
        assert_eq!(auth.scope(), "20150830/us-east-1/service/aws4_request");
        auth.signature
    }

    #[test]
    fn get_vanilla() {
        let h = headers(&[]);
        let req = Request {
            method: "GET",
            target: "/",
            headers: &h,
            body: b"",
        };
        let canonical = canonical_request(&req, &["host".into(), "x-amz-date".into()])
            .expect("canonical request");
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sign("GET", "/", &h, b"", &["host", "x-amz-date"]),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn post_vanilla() {
        assert_eq!(
            sign("POST", "/", &headers(&[]), b"", &["host", "x-amz-date"]),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1"),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            sign(
                "GET",
                "/?Param2=value2&Param1=value1",
                &headers(&[]),
                b"",
                &["host", "x-amz-date"]
            ),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn post_x_www_form_urlencoded() {
        let h = headers(&[("Content-Type", "application/x-www-form-urlencoded")]);
        assert_eq!(
            sign(
                "POST",
                "/",
                &h,
                b"Param1=value1",
                &["content-type", "host", "x-amz-date"]
            ),
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_names_case_insensitive() {
        let a = headers(&[("X-Amz-Target", "  secretsmanager.GetSecretValue  ")]);
        let b = vec![
            ("host".to_string(), "example.amazonaws.com".to_string()),
            ("x-amz-date".to_string(), DATE.to_string()),
            (
                "x-amz-target".to_string(),
                "secretsmanager.GetSecretValue".to_string(),
            ),
        ];
        let signed = ["host", "x-amz-date", "x-amz-target"];
        assert_eq!(
            sign("POST", "/", &a, b"{}", &signed),
            sign("POST", "/", &b, b"{}", &signed)
        );
    }

    #[test]
    fn missing_signed_header_is_an_error() {
        let h = headers(&[]);
        let req = Request {
            method: "GET",
            target: "/",
            headers: &h,
            body: b"",
        };
        assert!(canonical_request(&req, &["content-type".into(), "host".into()]).is_err());
    }

    #[test]
    fn tampering_changes_the_signature() {
        let h = headers(&[]);
        let good = sign(
            "POST",
            "/",
            &h,
            b"{\"SecretId\":\"a\"}",
            &["host", "x-amz-date"],
        );
        let bad = sign(
            "POST",
            "/",
            &h,
            b"{\"SecretId\":\"b\"}",
            &["host", "x-amz-date"],
        );
        assert!(!signatures_equal(&good, &bad));
        assert!(signatures_equal(&good, &good.clone()));
    }

    #[test]
    fn parse_authorization_rejects_garbage() {
        assert!(parse_authorization("Bearer abc").is_err());
        assert!(parse_authorization(
            "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00"
        )
        .is_err());
        assert!(parse_authorization("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00").is_err());
    }

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(parse_amz_date(DATE), Ok(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), DATE);
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(
            parse_amz_date("20240229T235959Z").map(format_amz_date),
            Ok("20240229T235959Z".to_string())
        );
        assert!(parse_amz_date("2015-08-30T12:36:00Z").is_err());
    }

    #[test]
    fn canonical_uri_double_encodes_and_normalises() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a b"), "/a%20b");
        assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
        assert_eq!(canonical_uri("/a/./b/../c"), "/a/c");
    }
}
