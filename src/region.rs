//! AWS regions and partitions: which partition a region belongs to, and the domains that
//! follow from it. Plain facts, below both the AWS calls and the alarm model that use them.

/// A region or partition code as AWS writes them (`us-east-1`, `aws-us-gov`): safe to
/// put into a host name or a URL as it is.
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The partition a region code belongs to, for what carries a region but no ARN.
pub fn of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The AWS console's host in a partition; `None` for partitions without a public console
/// (the isolated ones).
pub fn console_host(partition: &str) -> Option<&'static str> {
    match partition {
        "aws" => Some("console.aws.amazon.com"),
        "aws-us-gov" => Some("console.amazonaws-us-gov.com"),
        "aws-cn" => Some("console.amazonaws.cn"),
        _ => None,
    }
}

/// The DNS suffix of a region's service endpoints.
pub fn dns_suffix(region: &str) -> &'static str {
    match of_region(region) {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_partitions_and_domains() {
        assert_eq!(of_region("cn-northwest-1"), "aws-cn");
        assert_eq!(of_region("us-gov-east-1"), "aws-us-gov");
        assert_eq!(of_region("eu-west-1"), "aws");
        assert_eq!(dns_suffix("cn-north-1"), "amazonaws.com.cn");
        assert_eq!(dns_suffix("us-gov-west-1"), "amazonaws.com");
        assert!(is_code("us-east-1") && is_code("aws-us-gov"));
        assert_eq!(console_host("aws-cn"), Some("console.amazonaws.cn"));
        assert_eq!(console_host("aws-iso"), None);
        assert!(!is_code("") && !is_code("US East") && !is_code("us-east-1/.."));
    }
}
