//! Where an alarm lives: its ARN, and its page in the CloudWatch console.

use crate::region::is_code;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What JavaScript's `encodeURIComponent` leaves alone, which is what the console itself
/// does with the alarm name in its URL fragment.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// The parts of `arn:{partition}:{service}:{region}:{account}:{resource}` we use.
#[derive(Debug, PartialEq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// `None` unless partition and region are codes that can go into a URL as they are.
    pub fn parse(arn: &'a str) -> Option<Arn<'a>> {
        let mut parts = arn.trim().splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let _service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        (is_code(partition) && is_code(region)).then_some(Arn {
            partition,
            region,
            account,
            resource,
        })
    }

    /// The alarm name of an `…:alarm:{name}` ARN.
    pub fn alarm_name(&self) -> Option<&'a str> {
        self.resource
            .strip_prefix("alarm:")
            .filter(|name| !name.is_empty())
    }
}

/// Longest alarm name CloudWatch accepts; a longer one has no console page, and its
/// encoded URL could make Slack refuse the whole message.
const MAX_ALARM_NAME_CHARS: usize = 255;

/// The alarm's page in the CloudWatch console of its partition; `None` for partitions
/// without a public console (the isolated ones), a region that is not a code, or a name
/// CloudWatch could not have.
pub fn console_url(partition: &str, region: &str, name: &str) -> Option<String> {
    let host = crate::region::console_host(partition)?;
    if !is_code(region) || name.is_empty() || name.chars().nth(MAX_ALARM_NAME_CHARS).is_some() {
        return None;
    }
    Some(format!(
        "https://{region}.{host}/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
        utf8_percent_encode(name, URI_COMPONENT)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_give_partition_region_account_and_name() {
        let arn = Arn::parse("arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:a:b")
            .expect("arn");
        assert_eq!(
            (arn.partition, arn.region, arn.account),
            ("aws-us-gov", "us-gov-west-1", "123456789012")
        );
        assert_eq!(arn.alarm_name(), Some("a:b"));
        let topic = Arn::parse("arn:aws:sns:eu-west-1:1:alarms").expect("topic");
        assert_eq!(topic.alarm_name(), None);
        for bad in [
            "",
            "arn:aws",
            "urn:aws:cloudwatch:us-east-1:1:alarm:x",
            "arn:aws:cloudwatch:US East (N. Virginia):1:alarm:x",
            "arn:aws:cloudwatch:us-east-1/../x:1:alarm:x",
        ] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_are_encoded_like_encode_uri_component() {
        let encode = |s| utf8_percent_encode(s, URI_COMPONENT).to_string();
        assert_eq!(
            encode("a b/c?d#e&f=g+h%i"),
            "a%20b%2Fc%3Fd%23e%26f%3Dg%2Bh%25i"
        );
        assert_eq!(encode("keep-_.!~*'()AZaz09"), "keep-_.!~*'()AZaz09");
        assert_eq!(encode("é|<>\"`"), "%C3%A9%7C%3C%3E%22%60");
    }

    #[test]
    fn console_hosts_follow_the_partition() {
        assert_eq!(
            console_url("aws", "us-east-1", "cpu high").as_deref(),
            Some("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/cpu%20high")
        );
        assert_eq!(
            console_url("aws-us-gov", "us-gov-west-1", "x").as_deref(),
            Some("https://us-gov-west-1.console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#alarmsV2:alarm/x")
        );
        assert_eq!(
            console_url("aws-cn", "cn-north-1", "x").as_deref(),
            Some("https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/x")
        );
        assert_eq!(console_url("aws-iso", "us-iso-east-1", "x"), None);
        assert!(console_url("aws", "us-east-1", &"é".repeat(255)).is_some());
        assert_eq!(console_url("aws", "us-east-1", &"é".repeat(256)), None);
        assert_eq!(console_url("aws", "us-east-1", ""), None);
        assert_eq!(console_url("aws", "US East", "x"), None);
    }
}
