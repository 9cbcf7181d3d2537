//! Number parsing and formatting with Redis's rules.

/// Parses a signed 64-bit integer the way Redis's `string2ll` does: no
/// spaces, no `+`, no leading zeros, no overflow.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let digits = if b[0] == b'-' { &b[1..] } else { b };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || b[0] == b'-') {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Parses a double the way Redis's `string2ld`/`strtod` does: no spaces, no
/// NaN; `inf`, `+inf`, `-inf` accepted.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty()
        || s.len() > 5000
        || s.starts_with(|c: char| c.is_whitespace())
        || s.ends_with(|c: char| c.is_whitespace())
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// Formats a double as Redis 7.0 replies it (`addReplyDouble`): C's
/// `%.17g` (17 significant digits, trailing zeros dropped, exponent form
/// below 1e-4 or from 1e17), with `inf`/`-inf`/`nan` spelled out. So 1.1
/// reads `1.1000000000000001` and 3.0 reads `3`, byte for byte as
/// redis-server 7.0.15.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    if d.fract() == 0.0 && d.abs() < INTEGRAL_EXACT {
        // an integral score (leaderboards, counters): `%.17g` prints its
        // digits, and Rust's exact formatting below took its slow bignum
        // path for them (40% of a shard under ZRANGE … WITHSCORES)
        return itoa::Buffer::new().format(d as i64).to_owned();
    }
    format_exact(d)
}

/// Integral doubles below this print as their plain digits: it is under
/// 2^53 (every such integer is exact) and under `%.17g`'s switch to an
/// exponent (1e17).
const INTEGRAL_EXACT: f64 = 9e15;

/// [`format_double`] of a finite, non-zero `d`, by exact formatting.
fn format_exact(d: f64) -> String {
    // Rust's precision formatting is exact, like glibc's printf.
    let sci = format!("{d:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_fraction(mantissa), exp.abs())
    } else {
        trim_fraction(&format!("{d:.*}", (16 - exp) as usize)).to_string()
    }
}

/// Drops trailing zeros of a decimal fraction (and a bare trailing dot).
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"123"), Some(123));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"0"), Some(0));
    }

    #[test]
    fn doubles() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(1e300), "1.0000000000000001e+300");
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(1e-5), "1.0000000000000001e-05");
        assert_eq!(
            format_double(123456789012345678.0),
            "1.2345678901234568e+17"
        );
        assert_eq!(format_double(1e16), "10000000000000000");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(-42.0), "-42");
    }

    #[test]
    fn integral_doubles_print_as_exact_formatting_does() {
        let mut edges = vec![
            1.0,
            -1.0,
            9e15 - 1.0,
            -(9e15 - 1.0),
            8999999999999998.0,
            1e15,
        ];
        // every power of two and of ten in range, and their neighbours
        for p in 0..53 {
            edges.extend([2f64.powi(p), 2f64.powi(p) - 1.0, 2f64.powi(p) + 1.0]);
        }
        for p in 0..16 {
            edges.extend([10f64.powi(p), 10f64.powi(p) - 1.0, 10f64.powi(p) + 1.0]);
        }
        let mut x = 12345u64;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let d = ((x >> 11) % 9_000_000_000_000_000) as f64;
            edges.extend([d, -d, (d / 1e9).trunc()]);
        }
        for d in edges
            .into_iter()
            .filter(|d| *d != 0.0 && d.abs() < INTEGRAL_EXACT)
        {
            assert_eq!(format_double(d), format_exact(d), "{d}");
        }
    }
}
