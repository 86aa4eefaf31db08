//! Parsing and formatting FER2013's `pixels` field: 2,304 space-separated gray levels.

use super::emotion::FACE_PIXELS;

/// Parses one `pixels` field into `out`, or says what is wrong with it.
///
/// Separators are runs of spaces or tabs; leading and trailing ones are allowed, and so is
/// a trailing '\r' (CRLF files). The hot
/// loop only accumulates digits; a failure is explained by [`explain`] on the slow path.
pub(crate) fn parse_pixels(field: &[u8], out: &mut [u8]) -> Result<(), String> {
    debug_assert_eq!(out.len(), FACE_PIXELS);
    let mut count = 0usize;
    let mut value = 0u32;
    let mut digits = 0u32;
    for &b in field {
        let d = b.wrapping_sub(b'0');
        if d < 10 {
            value = value * 10 + d as u32;
            digits += 1;
            if digits > 3 {
                return Err(explain(field));
            }
        } else if b == b' ' || b == b'\t' || b == b'\r' {
            if digits > 0 {
                if value > 255 || count == FACE_PIXELS {
                    return Err(explain(field));
                }
                out[count] = value as u8;
                count += 1;
                value = 0;
                digits = 0;
            }
        } else {
            return Err(explain(field));
        }
    }
    if digits > 0 {
        if value > 255 || count == FACE_PIXELS {
            return Err(explain(field));
        }
        out[count] = value as u8;
        count += 1;
    }
    if count != FACE_PIXELS {
        return Err(explain(field));
    }
    Ok(())
}

/// The precise complaint about a field [`parse_pixels`] rejected: which value, and why.
fn explain(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(field);
    let mut count = 0usize;
    for token in text.split([' ', '\t', '\r']).filter(|t| !t.is_empty()) {
        count += 1;
        let shown: String = token.chars().take(20).collect();
        match token.parse::<i64>() {
            Ok(v) if !(0..=255).contains(&v) => {
                return format!("pixel {count} is {v}: outside 0-255");
            }
            Ok(_) if token.starts_with('+') || token.len() > 3 => {
                return format!("pixel {count} is '{shown}': expected 1-3 digits, 0-255");
            }
            Ok(_) => {}
            Err(_) if token.len() > 3 && token.bytes().all(|b| b.is_ascii_digit()) => {
                return format!("pixel {count} is {shown}: outside 0-255");
            }
            Err(_) => return format!("pixel {count} is '{shown}': not an integer 0-255"),
        }
    }
    format!("expected {FACE_PIXELS} pixels (48x48), found {count}")
}

/// Appends a face as FER2013 writes it: decimal levels separated by single spaces.
pub(crate) fn format_pixels(face: &[u8], out: &mut Vec<u8>) {
    for (i, &p) in face.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if p >= 100 {
            out.push(b'0' + p / 100);
        }
        if p >= 10 {
            out.push(b'0' + (p / 10) % 10);
        }
        out.push(b'0' + p % 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(values: &[&str]) -> Vec<u8> {
        values.join(" ").into_bytes()
    }

    fn full(v: &str) -> Vec<&str> {
        vec![v; FACE_PIXELS]
    }

    #[test]
    fn parses_and_formats_round_trip() {
        let face: Vec<u8> = (0..FACE_PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        let mut text = Vec::new();
        format_pixels(&face, &mut text);
        let mut out = vec![0; FACE_PIXELS];
        parse_pixels(&text, &mut out).unwrap();
        assert_eq!(out, face);
    }

    #[test]
    fn tolerates_extra_separators() {
        let mut text = b"  ".to_vec();
        text.extend(
            field(&full("255"))
                .iter()
                .map(|&b| if b == b' ' { b'\t' } else { b }),
        );
        text.extend_from_slice(b" \t");
        let mut out = vec![0; FACE_PIXELS];
        parse_pixels(&text, &mut out).unwrap();
        assert!(out.iter().all(|&p| p == 255));
    }

    #[test]
    fn names_the_bad_value() {
        let mut out = vec![0; FACE_PIXELS];
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (
                {
                    let mut v = full("1");
                    v[16] = "256";
                    v
                },
                "pixel 17 is 256: outside 0-255",
            ),
            (
                {
                    let mut v = full("1");
                    v[0] = "-1";
                    v
                },
                "pixel 1 is -1: outside 0-255",
            ),
            (
                {
                    let mut v = full("1");
                    v[5] = "2x5";
                    v
                },
                "pixel 6 is '2x5': not an integer 0-255",
            ),
            (
                {
                    let mut v = full("1");
                    v[9] = "12.5";
                    v
                },
                "pixel 10 is '12.5': not an integer 0-255",
            ),
            (
                {
                    let mut v = full("1");
                    v[3] = "0007";
                    v
                },
                "pixel 4 is '0007': expected 1-3 digits, 0-255",
            ),
            (
                full("1")[1..].to_vec(),
                "expected 2304 pixels (48x48), found 2303",
            ),
            (
                {
                    let mut v = full("1");
                    v.push("1");
                    v
                },
                "expected 2304 pixels (48x48), found 2305",
            ),
            (vec![], "expected 2304 pixels (48x48), found 0"),
        ];
        for (values, message) in cases {
            assert_eq!(
                parse_pixels(&field(&values), &mut out),
                Err(message.to_string())
            );
        }
    }
}
