//! An AWS Budgets alert, which Budgets publishes to SNS as plain text, not JSON: a subject
//! `AWS Budgets: <name> has exceeded your alert threshold`, then a letter that opens with
//! `AWS Budget Notification <date>` and ends in `Name: value` lines (budget name and type,
//! budgeted amount, alert type and threshold, the actual or forecasted amount). Only a
//! message with all of these marks is read as one; any other text stays text.

use super::{Field, Notice, Severity, Status, MAX_FIELDS};

/// The alert in an SNS message, if it is one.
#[inline(never)] // One copy beside the dispatch, not inlined into it: a smaller binary.
pub fn parse(subject: Option<&str>, message: &str) -> Option<Notice> {
    let subject = subject
        .map(str::trim)
        .filter(|s| s.starts_with("AWS Budgets: "))?;
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    lines.next()?.strip_prefix("AWS Budget Notification")?;
    // The letter's own lines (`Name: value`); its prose and the footnote's URL are not.
    let pairs: Vec<(&str, &str)> = lines
        .clone()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, v)| {
            !v.is_empty()
                && k.len() <= 32
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        })
        .collect();
    let value = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let name = value("Budget Name")?;
    let severity = match value("Alert Type")? {
        "ACTUAL" => Severity::High,
        "FORECASTED" => Severity::Medium,
        _ => return None,
    };
    value("Alert Threshold")?;
    let account = lines
        .clone()
        .find_map(|l| l.strip_prefix("AWS Account "))
        .map(str::trim)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    // Budgets lives in the global console; a name of other characters gets the list.
    let mut link = "https://console.aws.amazon.com/costmanagement/home#/budgets".to_string();
    if name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        link.push_str("/details?name=");
        link.push_str(name);
    }
    let mut notice = Notice {
        source: "aws.budgets".to_string(),
        title: format!("AWS Budgets: {name}"),
        summary: Some(subject.to_string()),
        description: lines
            .find(|l| l.starts_with("You requested"))
            .map(str::to_string),
        severity,
        status: Status::Open,
        key: Some(name.to_string()),
        account: account.map(str::to_string),
        partition: Some("aws".to_string()),
        link: Some(link),
        fields: pairs
            .iter()
            .filter(|(k, _)| *k != "Budget Name")
            .take(MAX_FIELDS)
            .map(|(k, v)| Field {
                name: k.to_string(),
                value: v.to_string(),
            })
            .collect(),
        ..Notice::default()
    };
    if notice.account.is_none() {
        notice.missing.push("AWS Account");
    }
    if value("Budget Type").is_none() {
        notice.missing.push("Budget Type");
    }
    Some(notice)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBJECT: &str = "AWS Budgets: monthly-total has exceeded your alert threshold";

    fn letter(alert: &str, amount_line: &str) -> String {
        format!(
            "AWS Budget Notification November 28, 2026\nAWS Account 123456789012\n\n\
             Dear AWS Customer,\n\nYou requested that we alert you when the {alert} Cost \
             associated with your monthly-total budget is greater than $800.00 for the current \
             month. The {alert} Cost associated with this budget is $812.40. You can find \
             additional details below and by accessing the AWS Budgets dashboard [1].\n\n\
             Budget Name: monthly-total\nBudget Type: Cost\nBudgeted Amount: $1,000.00\n\
             Alert Type: {alert}\nAlert Threshold: > $800.00\n{amount_line}\n\n\
             [1] https://console.aws.amazon.com/billing/home#/budgets"
        )
    }

    #[test]
    fn an_actual_alert_is_read_line_by_line() {
        let n =
            parse(Some(SUBJECT), &letter("ACTUAL", "ACTUAL Amount: $812.40")).expect("an alert");
        assert_eq!(n.source, "aws.budgets");
        assert_eq!(n.title, "AWS Budgets: monthly-total");
        assert_eq!(n.summary.as_deref(), Some(SUBJECT));
        assert!(n
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("You requested")));
        assert_eq!((n.severity, n.status), (Severity::High, Status::Open));
        assert_eq!(n.key.as_deref(), Some("monthly-total"));
        assert_eq!(n.account.as_deref(), Some("123456789012"));
        let fields = n.field_pairs();
        assert_eq!(
            fields,
            [
                ("Budget Type", "Cost"),
                ("Budgeted Amount", "$1,000.00"),
                ("Alert Type", "ACTUAL"),
                ("Alert Threshold", "> $800.00"),
                ("ACTUAL Amount", "$812.40"),
            ]
        );
        assert_eq!(
            n.link.as_deref(),
            Some("https://console.aws.amazon.com/costmanagement/home#/budgets/details?name=monthly-total")
        );
        assert!(n.missing.is_empty(), "{:?}", n.missing);
        assert!(!n.routine);
    }

    #[test]
    fn a_forecast_is_medium_and_odd_names_link_to_the_list() {
        let text = letter("FORECASTED", "FORECASTED Amount: $1,120.00")
            .replace("Budget Name: monthly-total", "Budget Name: team a/b");
        let n =
            parse(Some("AWS Budgets: team a/b is forecasted to exceed"), &text).expect("an alert");
        assert_eq!(n.severity, Severity::Medium);
        assert_eq!(n.key.as_deref(), Some("team a/b"));
        assert_eq!(
            n.link.as_deref(),
            Some("https://console.aws.amazon.com/costmanagement/home#/budgets")
        );
    }

    #[test]
    fn ordinary_text_is_never_an_alert() {
        let alert = letter("ACTUAL", "ACTUAL Amount: $812.40");
        for (subject, message) in [
            (None, alert.as_str()),
            (Some("Budgets: monthly-total"), alert.as_str()),
            (
                Some(SUBJECT),
                "Deploy finished.\nBudget Name: x\nAlert Type: ACTUAL",
            ),
            (
                Some(SUBJECT),
                &alert.replace("Alert Type: ACTUAL", "Alert Type: SOON"),
            ),
            (
                Some(SUBJECT),
                &alert.replace("Budget Name: monthly-total\n", ""),
            ),
            (
                Some(SUBJECT),
                &alert.replace("Alert Threshold", "Threshold"),
            ),
            (Some(SUBJECT), ""),
        ] {
            assert_eq!(parse(subject, message), None, "{subject:?} {message}");
        }
    }

    #[test]
    fn lines_it_lacks_are_named() {
        let text = letter("ACTUAL", "")
            .replace("AWS Account 123456789012", "AWS Account 12")
            .replace("Budget Type: Cost\n", "");
        let n = parse(Some(SUBJECT), &text).expect("still an alert");
        assert_eq!(n.account, None);
        assert_eq!(n.missing, ["AWS Account", "Budget Type"]);
    }
}
