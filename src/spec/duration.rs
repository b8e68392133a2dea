//! Durations as people and Terraform write them: `30s`, `40m`, `2h`, `1h30m`, `500ms`; a bare
//! number is seconds. Used by `timeouts:` blocks and by the CLI's `--lock-timeout`.

use std::time::Duration;

/// Parses a duration, or says what a valid one looks like.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration; write e.g. 30s, 40m, 2h or 1h30m");
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let n: f64 = number.parse().map_err(|_| bad())?;
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "unknown unit `{unit}` in `{text}`; use ms, s, m or h (e.g. 1h30m)"
                ));
            }
        };
        total += n * scale;
        rest = tail;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_style_durations_parse() {
        assert_eq!(parse_duration("40m"), Ok(Duration::from_secs(2400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 2h "), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn bad_durations_say_what_would_be_right() {
        assert!(parse_duration("soon").unwrap_err().contains("e.g. 30s"));
        assert!(
            parse_duration("10d")
                .unwrap_err()
                .contains("unknown unit `d`")
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5").is_err());
    }
}
