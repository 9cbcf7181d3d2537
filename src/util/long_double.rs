//! x87 80-bit `long double` arithmetic as INCRBYFLOAT and HINCRBYFLOAT do
//! it in Redis on x86-64: the value and the increment read by `strtold`,
//! added with a 64-bit significand, printed with `%.17Lf` and trailing
//! zeros dropped. Rust has no such type, so values are kept as an exact
//! significand and power of two, and every step rounds exactly as the
//! hardware does (to nearest, ties to even), with big integers for the
//! decimal conversions. `0.1 + 0.2` thus reads `0.3`, and `516.1`
//! incremented by 0 reads `516.09999999999999998`, as in Redis.

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, Zero};
use std::cmp::Ordering;

/// Bits of the significand (the integer bit included).
const PRECISION: u64 = 64;
/// Exponent of the smallest normal value's leading bit.
const MIN_EXP: i64 = -16382;
/// Values from 2^MAX_EXP overflow.
const MAX_EXP: i64 = 16384;
/// Exponent of the smallest subnormal value (its only bit).
const TINY_EXP: i64 = MIN_EXP - (PRECISION as i64 - 1);
/// Longest text `string2ld` reads (Redis's MAX_LONG_DOUBLE_CHARS).
const MAX_CHARS: usize = 5 * 1024;

/// A finite `long double`: `±significand × 2^exp`, or an infinity.
#[derive(Clone, Debug, PartialEq)]
pub enum LongDouble {
    /// A finite value (zero: significand 0).
    Finite {
        negative: bool,
        significand: u64,
        exp: i64,
    },
    /// ±infinity.
    Infinite { negative: bool },
}

impl LongDouble {
    /// Zero.
    pub const ZERO: LongDouble = LongDouble::Finite {
        negative: false,
        significand: 0,
        exp: 0,
    };

    /// Whether the value is finite.
    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Reads `text` as Redis's `string2ld` does: all of it, by `strtold`
    /// (decimal or hexadecimal, `inf`/`infinity`), without leading white
    /// space, not NaN, not overflowing, not underflowing to zero.
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_CHARS {
            return None;
        }
        let s = std::str::from_utf8(text).ok()?;
        let (negative, body) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == "inf" || lower == "infinity" {
            return Some(LongDouble::Infinite { negative });
        }
        let (numerator, denominator, exp2) = if let Some(hex) = lower.strip_prefix("0x") {
            parse_hex(hex)?
        } else {
            parse_decimal(&lower)?
        };
        match round(negative, numerator, denominator, exp2) {
            // out of range: strtold's ERANGE with HUGE_VALL or zero
            v @ LongDouble::Finite { significand, .. } if significand != 0 => Some(v),
            LongDouble::Finite { .. } if !has_nonzero_digit(&lower) => Some(LongDouble::Finite {
                negative,
                significand: 0,
                exp: 0,
            }),
            _ => None,
        }
    }

    /// The sum, rounded to the nearest `long double` (ties to even); `None`
    /// for infinity minus infinity (NaN).
    pub fn add(&self, other: &LongDouble) -> Option<LongDouble> {
        use LongDouble::*;
        match (self, other) {
            (Infinite { negative: a }, Infinite { negative: b }) if a != b => None,
            (Infinite { .. }, _) => Some(self.clone()),
            (_, Infinite { .. }) => Some(other.clone()),
            (
                Finite {
                    negative: na,
                    significand: sa,
                    exp: ea,
                },
                Finite {
                    negative: nb,
                    significand: sb,
                    exp: eb,
                },
            ) => {
                if *sb == 0 {
                    return Some(self.clone()).filter(|_| *sa != 0).or(Some(Finite {
                        negative: *na && *nb,
                        significand: 0,
                        exp: 0,
                    }));
                }
                if *sa == 0 {
                    return Some(other.clone());
                }
                let low = (*ea).min(*eb);
                let term = |negative: bool, s: u64, e: i64| {
                    let v = BigInt::from(s) << (e - low) as usize;
                    if negative {
                        -v
                    } else {
                        v
                    }
                };
                let sum = term(*na, *sa, *ea) + term(*nb, *sb, *eb);
                let (sign, magnitude) = sum.into_parts();
                // an exact zero sum is +0 when rounding to nearest
                Some(round(sign == Sign::Minus, magnitude, BigUint::one(), low))
            }
        }
    }

    /// The nearest `f64` (`None` when out of its range), for numbers read
    /// as C's `strtod` reads hexadecimal ones. Rounds twice (to 64 bits,
    /// then to 53), which differs from one rounding only for halfway cases
    /// of more than 64 significant bits.
    pub fn to_f64(&self) -> Option<f64> {
        match *self {
            LongDouble::Infinite { negative: true } => Some(f64::NEG_INFINITY),
            LongDouble::Infinite { negative: false } => Some(f64::INFINITY),
            LongDouble::Finite {
                negative,
                significand,
                exp,
            } => {
                // two steps, so neither power of two overflows on its own
                let half = (exp / 2).clamp(-1100, 1100) as i32;
                let rest = (exp - exp / 2).clamp(-1100, 1100) as i32;
                let magnitude = significand as f64 * 2f64.powi(half) * 2f64.powi(rest);
                let out_of_range =
                    significand != 0 && (magnitude.is_infinite() || magnitude < f64::MIN_POSITIVE);
                (!out_of_range).then_some(if negative { -magnitude } else { magnitude })
            }
        }
    }

    /// The value as `%.17Lf` prints it, trailing zeros (and a trailing
    /// point) dropped, and `-0` as `0`: Redis's human-friendly form.
    pub fn to_human(&self) -> String {
        let (negative, significand, exp) = match self {
            LongDouble::Infinite { negative: true } => return "-inf".into(),
            LongDouble::Infinite { negative: false } => return "inf".into(),
            LongDouble::Finite {
                negative,
                significand,
                exp,
            } => (*negative, *significand, *exp),
        };
        let scale = BigUint::from(10u32).pow(17);
        // the value times 10^17, rounded to an integer, ties to even
        let scaled = if exp >= 0 {
            (BigUint::from(significand) << exp as usize) * &scale
        } else {
            let exact = BigUint::from(significand) * &scale;
            let shift = (-exp) as usize;
            let quotient = &exact >> shift;
            let remainder = &exact - (&quotient << shift);
            let half = BigUint::one() << (shift - 1);
            match remainder.cmp(&half) {
                Ordering::Greater => quotient + 1u32,
                Ordering::Equal if quotient.bit(0) => quotient + 1u32,
                _ => quotient,
            }
        };
        let whole = &scaled / &scale;
        let fraction = format!("{:0>17}", (&scaled % &scale).to_string());
        let fraction = fraction.trim_end_matches('0');
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        out.push_str(&whole.to_string());
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
        if out == "-0" {
            out = "0".into();
        }
        out
    }
}

/// Whether the significand digits of a number's text have a nonzero digit
/// (strtold reports underflow only for those).
fn has_nonzero_digit(lower: &str) -> bool {
    let digits = match lower.strip_prefix("0x") {
        Some(hex) => hex.split('p').next().unwrap_or(""),
        None => lower.split('e').next().unwrap_or(""),
    };
    digits
        .bytes()
        .any(|b| b.is_ascii_alphanumeric() && b != b'0')
}

/// `digits[.digits][<marker>[±]digits]`: the whole and fractional digits
/// (each passing `digit`) and the exponent, clamped to ±2^40 (beyond any
/// long double either way: the range checks decide).
fn split_number(s: &str, marker: char, digit: fn(&u8) -> bool) -> Option<(&str, &str, i64)> {
    let (mantissa, exponent) = match s.find(marker) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().chain(fraction.bytes()).all(|b| digit(&b))
    {
        return None;
    }
    let exp = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n = digits.parse::<i64>().unwrap_or(1 << 40).min(1 << 40);
            if e.starts_with('-') {
                -n
            } else {
                n
            }
        }
    };
    Some((whole, fraction, exp))
}

/// `digits[.digits][e[±]digits]` as numerator / denominator × 2^0.
fn parse_decimal(s: &str) -> Option<(BigUint, BigUint, i64)> {
    let (whole, fraction, exp) = split_number(s, 'e', u8::is_ascii_digit)?;
    let exp10 = exp - fraction.len() as i64;
    let all: String = whole.chars().chain(fraction.chars()).collect();
    let digits = all.trim_start_matches('0');
    if digits.is_empty() {
        return Some((BigUint::zero(), BigUint::one(), 0));
    }
    // magnitude about 10^(digits + exp10): far outside 1e±4951 is out of range
    let magnitude = digits.len() as i64 + exp10;
    if magnitude > 4940 {
        return Some((BigUint::one(), BigUint::one(), MAX_EXP + 1));
    }
    if magnitude < -4960 {
        return Some((BigUint::one(), BigUint::one(), TINY_EXP - 2));
    }
    let n: BigUint = digits.parse().ok()?;
    let ten = BigUint::from(10u32);
    Some(if exp10 >= 0 {
        (n * ten.pow(exp10 as u32), BigUint::one(), 0)
    } else {
        (n, ten.pow((-exp10) as u32), 0)
    })
}

/// `hex[.hex][p[±]digits]` (after `0x`) as numerator / 1 × 2^exp.
fn parse_hex(s: &str) -> Option<(BigUint, BigUint, i64)> {
    let (whole, fraction, exp) = split_number(s, 'p', u8::is_ascii_hexdigit)?;
    let exp2 = exp - 4 * fraction.len() as i64;
    let all: String = whole.chars().chain(fraction.chars()).collect();
    let n = BigUint::parse_bytes(all.as_bytes(), 16)?;
    let bits = n.bits() as i64;
    if bits > 0 && bits + exp2 > MAX_EXP + 1 {
        return Some((BigUint::one(), BigUint::one(), MAX_EXP + 1));
    }
    if bits > 0 && bits + exp2 < TINY_EXP - 1 {
        return Some((BigUint::one(), BigUint::one(), TINY_EXP - 2));
    }
    Some((n, BigUint::one(), exp2))
}

/// `±numerator / denominator × 2^exp2` rounded to the nearest `long
/// double` (ties to even), subnormals included; an infinity past the
/// largest, zero below half the smallest.
fn round(negative: bool, numerator: BigUint, denominator: BigUint, exp2: i64) -> LongDouble {
    if numerator.is_zero() {
        return LongDouble::Finite {
            negative,
            significand: 0,
            exp: 0,
        };
    }
    // floor(log2) of the value: bits(n) - bits(d) or one less
    let mut top = numerator.bits() as i64 - denominator.bits() as i64 + exp2;
    let below = |t: i64| {
        // whether value < 2^t
        let (n, d) = scale(&numerator, &denominator, exp2 - t);
        n < d
    };
    if below(top) {
        top -= 1;
    }
    if top >= MAX_EXP {
        return LongDouble::Infinite { negative };
    }
    // the grid the result lies on: 64 bits below the top, no finer than
    // the smallest subnormal
    let unit = (top - (PRECISION as i64 - 1)).max(TINY_EXP);
    let (n, d) = scale(&numerator, &denominator, exp2 - unit);
    let quotient = &n / &d;
    let twice_remainder = (&n - &quotient * &d) << 1usize;
    let mut q = quotient;
    match twice_remainder.cmp(&d) {
        Ordering::Greater => q += 1u32,
        Ordering::Equal if q.bit(0) => q += 1u32,
        _ => {}
    }
    let (mut significand, mut exp) = (q, unit);
    if significand.bits() > PRECISION {
        significand >>= 1usize;
        exp += 1;
    }
    if exp + significand.bits() as i64 > MAX_EXP {
        return LongDouble::Infinite { negative };
    }
    let significand = significand.iter_u64_digits().next().unwrap_or(0);
    LongDouble::Finite {
        negative,
        significand,
        exp,
    }
}

/// `numerator × 2^shift` and `denominator` as integers (the power of two
/// moved to whichever side keeps them whole).
fn scale(numerator: &BigUint, denominator: &BigUint, shift: i64) -> (BigUint, BigUint) {
    if shift >= 0 {
        (numerator << shift as usize, denominator.clone())
    } else {
        (numerator.clone(), denominator << (-shift) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        let x = LongDouble::parse(a.as_bytes()).unwrap();
        let y = LongDouble::parse(b.as_bytes()).unwrap();
        x.add(&y).unwrap().to_human()
    }

    #[test]
    fn sums_print_as_redis_prints_them() {
        // figures from redis-server 7.0.15 on x86-64
        assert_eq!(incr("10.50", "0.1"), "10.6");
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
        assert_eq!(incr("516.1", "0"), "516.09999999999999998");
        assert_eq!(incr("12345678901234567", "2.5"), "12345678901234569.5");
        assert_eq!(incr("1", "-1"), "0");
        assert_eq!(incr("-0.000000000000000001", "0"), "0");
        assert_eq!(incr("3", "0x1p-2"), "3.25");
    }

    #[test]
    fn reading_follows_string2ld() {
        for bad in [
            "", " 1", "1 ", "nan", "1e99999", "1e-99999", "abc", "1.2.3", "0x", "e5", ".",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        for good in [
            "1",
            "-1.5",
            "+2",
            ".5",
            "5.",
            "1e10",
            "1E-3",
            "inf",
            "-Infinity",
            "0x1.8p1",
            "0e999999",
        ] {
            assert!(LongDouble::parse(good.as_bytes()).is_some(), "{good:?}");
        }
        let inf = LongDouble::parse(b"inf").unwrap();
        let minus = LongDouble::parse(b"-inf").unwrap();
        assert_eq!(inf.add(&minus), None);
        assert!(!inf.add(&LongDouble::ZERO).unwrap().is_finite());
        // the largest long double overflows when doubled
        let big = LongDouble::parse(b"1.18e4932").unwrap();
        assert!(big.is_finite());
        assert!(!big.add(&big).unwrap().is_finite());
    }
}
