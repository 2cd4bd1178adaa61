//! An Amazon Q Developer (AWS Chatbot) custom notification: `{"version": "1.0", "source":
//! "custom", "content": {…}, "metadata": {…}}`, as AWS documents it for applications that post
//! through Amazon Q. Read so that such applications can point here unchanged: the title, the
//! description, next steps and keywords make the card, `metadata.summary` the line
//! notifications show, `metadata.threadId` the key.

use super::{scalar, text, texts, Field, Notice, MAX_FIELDS};
use serde_json::Value;

/// The notification in `v`, if it is one: `source` is `custom` and it has a `version` or a
/// `content`. `raw` is kept only when there is no `content` to show.
pub fn parse(v: &Value, raw: &str) -> Option<Notice> {
    if v.get("source").and_then(Value::as_str) != Some("custom") {
        return None;
    }
    let content = v.get("content").filter(|c| c.is_object());
    if content.is_none() && v.get("version").is_none() {
        return None;
    }
    let metadata = v.get("metadata");
    let summary = text(field(metadata, "summary"));
    let description = text(field(content, "description"));
    let title = text(field(content, "title"))
        .or_else(|| summary.clone())
        .unwrap_or_else(|| "Custom notification".to_string());
    // Keys in the order serde_json keeps them (sorted), as for EventBridge's `detail`.
    let fields = match field(metadata, "additionalContext") {
        Some(Value::Object(context)) => context
            .iter()
            .filter_map(|(name, value)| {
                Some(Field {
                    name: name.clone(),
                    value: scalar(value)?,
                })
            })
            .take(MAX_FIELDS)
            .collect(),
        _ => Vec::new(),
    };
    let mut notice = Notice {
        source: "custom".to_string(),
        kind: text(field(metadata, "eventType")),
        title,
        summary,
        description,
        key: text(field(metadata, "threadId")),
        id: text(v.get("id")),
        resources: texts(field(metadata, "relatedResources")),
        fields,
        next_steps: texts(field(content, "nextSteps")),
        keywords: texts(field(content, "keywords")),
        ..Notice::default()
    };
    if content.is_none() {
        notice.missing.push("content");
        notice.raw = Some(raw.to_string());
    } else if notice.description.is_none() {
        // The one field of `content` AWS's schema requires.
        notice.missing.push("content.description");
    }
    Some(notice)
}

fn field<'v>(parent: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    parent?.get(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: &Value) -> Option<Notice> {
        parse(v, &v.to_string())
    }

    #[test]
    fn a_custom_notification_is_a_notice() {
        let v = json!({
            "version": "1.0", "source": "custom", "id": "n-1",
            "content": {
                "textType": "client-markdown", "title": ":warning: Checkout errors",
                "description": "Error rate *above 5 %* for 10 minutes",
                "nextSteps": ["Check the deploy", 7, "Roll back"],
                "keywords": ["checkout", "prod"]
            },
            "metadata": {
                "threadId": "checkout-errors", "summary": "Checkout errors above 5 %",
                "eventType": "ErrorRate", "relatedResources": ["arn:aws:lambda:eu-west-1:1:function:checkout"],
                "additionalContext": {"service": "checkout", "rate": 6.2, "nested": {"a": 1}}
            }
        });
        let notice = read(&v).expect("a notice");
        assert_eq!(notice.source, "custom");
        assert_eq!(notice.title, ":warning: Checkout errors");
        assert_eq!(notice.summary.as_deref(), Some("Checkout errors above 5 %"));
        assert_eq!(
            notice.description.as_deref(),
            Some("Error rate *above 5 %* for 10 minutes")
        );
        assert_eq!(notice.key.as_deref(), Some("checkout-errors"));
        assert_eq!(notice.kind.as_deref(), Some("ErrorRate"));
        assert_eq!(notice.next_steps, ["Check the deploy", "Roll back"]);
        assert_eq!(notice.keywords, ["checkout", "prod"]);
        assert_eq!(
            notice.resources,
            ["arn:aws:lambda:eu-west-1:1:function:checkout"]
        );
        let fields = notice.field_pairs();
        assert_eq!(fields, [("rate", "6.2"), ("service", "checkout")]);
        assert!(notice.missing.is_empty() && notice.raw.is_none());
    }

    #[test]
    fn what_is_missing_is_named_and_the_rest_still_shown() {
        let bare =
            read(&json!({"version": "1.0", "source": "custom", "content": {}})).expect("a notice");
        assert_eq!(bare.title, "Custom notification");
        assert_eq!(bare.missing, ["content.description"]);
        let no_content = json!({"version": "1.0", "source": "custom",
            "metadata": {"summary": "deploy done", "threadId": 5, "additionalContext": [1]}});
        let notice = read(&no_content).expect("a notice");
        assert_eq!(notice.title, "deploy done");
        assert_eq!(notice.key, None);
        assert_eq!(notice.missing, ["content"]);
        assert_eq!(notice.raw, Some(no_content.to_string()));
        let typed = json!({"version": 1, "source": "custom", "content": {"title": 3,
            "description": ["x"], "nextSteps": "one", "keywords": null}});
        let notice = read(&typed).expect("a notice");
        assert_eq!(notice.title, "Custom notification");
        assert!(notice.next_steps.is_empty() && notice.keywords.is_empty());
        assert_eq!(notice.missing, ["content.description"]);
    }

    #[test]
    fn at_most_six_fields() {
        let context: serde_json::Map<String, Value> =
            (0..10).map(|i| (format!("k{i}"), json!(i))).collect();
        let v = json!({"version": "1.0", "source": "custom", "content": {"description": "d"},
            "metadata": {"eventType": "t", "additionalContext": context}});
        assert_eq!(read(&v).expect("a notice").fields.len(), MAX_FIELDS);
    }

    #[test]
    fn only_source_custom_with_a_version_or_content_is_one() {
        for v in [
            json!({"source": "custom"}),
            json!({"source": "aws.ec2", "version": "1.0", "content": {}}),
            json!({"source": ["custom"], "content": {}}),
            json!({"version": "1.0", "content": {}}),
        ] {
            assert_eq!(read(&v), None, "{v}");
        }
    }
}
