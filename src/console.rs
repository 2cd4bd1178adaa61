//! Where an alarm lives: its ARN, and its page in the CloudWatch console.

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

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Longest alarm name CloudWatch accepts; a longer one has no console page, and its
/// encoded URL could make Slack refuse the whole message.
const MAX_ALARM_NAME_CHARS: usize = 255;

/// The alarm's page in the CloudWatch console of its partition; `None` for partitions
/// without a public console (the isolated ones), a region that is not a code, or a name
/// CloudWatch could not have.
pub fn alarm_url(partition: &str, region: &str, name: &str) -> Option<String> {
    let host = match partition {
        "aws" => "console.aws.amazon.com",
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        "aws-cn" => "console.amazonaws.cn",
        _ => return None,
    };
    if !is_code(region) || name.is_empty() || name.chars().nth(MAX_ALARM_NAME_CHARS).is_some() {
        return None;
    }
    Some(format!(
        "https://{region}.{host}/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
        encode_component(name)
    ))
}

/// Percent-encodes like JavaScript's `encodeURIComponent`, which is what the console
/// itself does with the alarm name in this fragment.
pub fn encode_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// The partition a region code belongs to, for events that carry a region but no ARN.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
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
        assert_eq!(
            encode_component("a b/c?d#e&f=g+h%i"),
            "a%20b%2Fc%3Fd%23e%26f%3Dg%2Bh%25i"
        );
        assert_eq!(
            encode_component("keep-_.!~*'()AZaz09"),
            "keep-_.!~*'()AZaz09"
        );
        assert_eq!(encode_component("é|<>\"`"), "%C3%A9%7C%3C%3E%22%60");
    }

    #[test]
    fn console_hosts_follow_the_partition() {
        assert_eq!(
            alarm_url("aws", "us-east-1", "cpu high").as_deref(),
            Some("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/cpu%20high")
        );
        assert_eq!(
            alarm_url("aws-us-gov", "us-gov-west-1", "x").as_deref(),
            Some("https://us-gov-west-1.console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#alarmsV2:alarm/x")
        );
        assert_eq!(
            alarm_url("aws-cn", "cn-north-1", "x").as_deref(),
            Some("https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/x")
        );
        assert_eq!(alarm_url("aws-iso", "us-iso-east-1", "x"), None);
        assert!(alarm_url("aws", "us-east-1", &"é".repeat(255)).is_some());
        assert_eq!(alarm_url("aws", "us-east-1", &"é".repeat(256)), None);
        assert_eq!(alarm_url("aws", "us-east-1", ""), None);
        assert_eq!(alarm_url("aws", "US East", "x"), None);
        assert_eq!(partition_of("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-east-1"), "aws-us-gov");
        assert_eq!(partition_of("eu-west-1"), "aws");
    }
}
