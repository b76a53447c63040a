//! Python values as scenarios and traces carry them: None, bools, ints, strings, lists,
//! and references to model objects (tasks, futures, exceptions).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value. Scenarios write plain JSON (`null`, `true`, `3`, `2.5`, `"x"`, `[..]`,
/// `{"bytes": "..."}`, and `{"float": "inf"}` / `"-inf"` / `"nan"` for the floats JSON
/// cannot spell). A JSON number with a fraction or an exponent is a Python float, one
/// without is an int.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// `None`.
    #[default]
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(PyFloat),
    /// A str.
    Str(String),
    /// A list.
    List(Vec<Value>),
    /// A bytes object; `bytes` holds one char per byte (Latin-1), as JSON
    /// `{"bytes": "..."}`.
    Bytes {
        /// The bytes, one char each.
        bytes: String,
    },
    /// An exception object as a value (gather with return_exceptions, Future.exception()).
    Exc(crate::core::exception::ExcView),
}

impl fmt::Display for Value {
    /// As Python's `repr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => write!(f, "None"),
            Value::Bool(true) => write!(f, "True"),
            Value::Bool(false) => write!(f, "False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{}", py_float_repr(x.0)),
            Value::Str(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Exc(e) => write!(f, "{e}"),
            Value::Bytes { bytes } => write!(f, "{}", bytes_repr(bytes)),
        }
    }
}

impl Value {
    /// A message as bookkeeping lines show it: a string as it is, anything else as its
    /// repr.
    pub fn message_text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// `type(v).__name__`.
    pub fn type_name(&self) -> String {
        match self {
            Value::None => "NoneType".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "str".into(),
            Value::List(_) => "list".into(),
            Value::Bytes { .. } => "bytes".into(),
            Value::Exc(e) => e.class.rsplit('.').next().unwrap_or(&e.class).to_string(),
        }
    }

    /// A bytes value from raw bytes.
    pub fn from_bytes(data: &[u8]) -> Value {
        Value::Bytes {
            bytes: data.iter().map(|&b| b as char).collect(),
        }
    }
}

/// The raw bytes of a `{"bytes": ...}` string (chars above U+00FF are not bytes).
pub fn bytes_of(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`; backslash,
/// the quote and control characters escaped (C0, DEL and the C1 range as `\xNN`; other
/// non-ASCII characters are taken as printable, which holds for the letters scenarios
/// use).
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) || c as u32 == 0xad => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr(bytes)`: single quotes unless the data has `'` and no `"`.
fn bytes_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (' '..='~').contains(&c) => out.push(c),
            c => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        }
    }
    out.push(quote);
    out
}

impl<'de> Deserialize<'de> for Value {
    /// Each JSON shape has one meaning, and anything else is refused with the list of
    /// shapes a value may take.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a value: null, true/false, an int, a float, a string, a list, {\"bytes\": \"...\"}, \
             {\"float\": \"inf\"|\"-inf\"|\"nan\"} or an exception {\"class\": ..., \"args\": [...]}",
        )
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u).map(Value::Int).map_err(|_| {
            E::custom(format!(
                "the int {u} is beyond what scenarios carry (64-bit signed)"
            ))
        })
    }

    fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<Value, E> {
        Ok(Value::Float(PyFloat(x)))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        use serde::de::Error;
        // Maps are the rare shapes: read the object whole, then decide by its keys.
        let obj: serde_json::Map<String, serde_json::Value> =
            Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        let tree = serde_json::Value::Object(obj.clone());
        match keys.as_slice() {
            ["bytes"] => match &obj["bytes"] {
                serde_json::Value::String(b) => Ok(Value::Bytes { bytes: b.clone() }),
                other => Err(A::Error::custom(format!(
                    "{{\"bytes\": ...}} takes a string (one char per byte), not {other}"
                ))),
            },
            ["float"] => PyFloat::deserialize(tree)
                .map(Value::Float)
                .map_err(A::Error::custom),
            _ if obj.contains_key("class") => crate::core::exception::ExcView::deserialize(tree)
                .map(Value::Exc)
                .map_err(A::Error::custom),
            _ => Err(A::Error::custom(format!(
                "not a value: an object with keys {keys:?} (objects are {{\"bytes\": ...}}, {{\"float\": ...}} or an exception {{\"class\": ..., \"args\": [...]}})"
            ))),
        }
    }
}

/// A Python float as a value: compared and hashed by its bits (so a trace holding
/// `nan` still equals itself), written as a JSON number when finite and as
/// `{"float": "inf"}`, `{"float": "-inf"}` or `{"float": "nan"}` when not.
#[derive(Clone, Copy, Debug)]
pub struct PyFloat(pub f64);

impl PartialEq for PyFloat {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for PyFloat {}

impl std::hash::Hash for PyFloat {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

impl Serialize for PyFloat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            use serde::ser::SerializeMap;
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry("float", &py_float_repr(self.0))?;
            m.end()
        }
    }
}

impl<'de> Deserialize<'de> for PyFloat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FloatVisitor)
    }
}

struct FloatVisitor;

impl<'de> serde::de::Visitor<'de> for FloatVisitor {
    type Value = PyFloat;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a number, or {\"float\": \"inf\"}, {\"float\": \"-inf\"} or {\"float\": \"nan\"}",
        )
    }

    fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<PyFloat, E> {
        Ok(PyFloat(x))
    }

    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<PyFloat, E> {
        Ok(PyFloat(i as f64))
    }

    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<PyFloat, E> {
        Ok(PyFloat(u as f64))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<PyFloat, A::Error> {
        use serde::de::Error;
        let mut spelled: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "float" || spelled.is_some() {
                return Err(A::Error::custom(format!(
                    "unexpected key {key:?}: a spelled float is {{\"float\": \"inf\"}}, \"-inf\" or \"nan\""
                )));
            }
            spelled = Some(map.next_value()?);
        }
        match spelled.as_deref() {
            Some("inf") => Ok(PyFloat(f64::INFINITY)),
            Some("-inf") => Ok(PyFloat(f64::NEG_INFINITY)),
            Some("nan") => Ok(PyFloat(f64::NAN)),
            Some(other) => Err(A::Error::custom(format!(
                "{{\"float\": {other:?}}}: the spelled floats are \"inf\", \"-inf\" and \"nan\""
            ))),
            None => Err(A::Error::custom("an empty object is not a float")),
        }
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation
/// when the decimal point falls within 16 digits of the first (`0.0001`, `1e+16`,
/// `1e-05`, `2.5`, `1.0`), `inf`, `-inf`, `nan`.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: `-1.25e-7`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // `decpt` is where the decimal point goes after the first digit's position; repr
    // switches to exponent form when `decpt <= -4 || decpt > 16` (Python/pystrtod.c).
    let decpt = exp + 1;
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs());
    }
    let n = digits.len() as i32;
    let body = if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// A number as the trace's labels print it (`asyncio.sleep(0.5)`, `timeout=3`): an
/// integral value below 1e16 in magnitude as an integer (`1`, whether the scenario wrote
/// `1` or `1.0`), anything else as Python's `repr` of the float (`1e-07`, `1e+16`,
/// `inf`). The adapter formats with the same rule (`fmt_number`).
pub fn number_label(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{}", x as i64)
    } else {
        py_float_repr(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_follows_python() {
        for (x, want) in [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e17, "1.2345e+17"),
            (123456789.125, "123456789.125"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (1e100, "1e+100"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(py_float_repr(x), want, "repr({x:?})");
        }
    }

    #[test]
    fn str_repr_follows_python() {
        assert_eq!(py_str_repr("s"), "'s'");
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("a'b\""), "'a\\'b\"'");
        assert_eq!(py_str_repr("x\ny\\"), "'x\\ny\\\\'");
        assert_eq!(py_str_repr("\u{7}é"), "'\\x07é'");
    }

    #[test]
    fn labels_print_integral_numbers_as_integers() {
        assert_eq!(number_label(1.0), "1");
        assert_eq!(number_label(1e15), "1000000000000000");
        assert_eq!(number_label(1e16), "1e+16");
        assert_eq!(number_label(1e-7), "1e-07");
        assert_eq!(number_label(0.25), "0.25");
        assert_eq!(number_label(-0.0), "0");
    }

    #[test]
    fn floats_read_and_write_their_json_spellings() {
        let v: Value = serde_json::from_str("2.5").unwrap();
        assert_eq!(v, Value::Float(PyFloat(2.5)));
        let v: Value = serde_json::from_str("2").unwrap();
        assert_eq!(v, Value::Int(2));
        let v: Value = serde_json::from_str(r#"{"float": "-inf"}"#).unwrap();
        assert_eq!(v, Value::Float(PyFloat(f64::NEG_INFINITY)));
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"float":"-inf"}"#);
        let nan: Value = serde_json::from_str(r#"{"float": "nan"}"#).unwrap();
        assert_eq!(nan, nan.clone());
        assert_eq!(nan.to_string(), "nan");
        assert!(serde_json::from_str::<Value>(r#"{"float": "huge"}"#).is_err());
    }
}

/// Serde for a time argument (`delay`, `timeout`, `at`): a JSON number, or
/// `{"float": "inf"}` / `{"float": "-inf"}` (and `"nan"`, which validation refuses
/// where a time is needed), so an infinite timeout can be written.
pub mod number {
    use super::PyFloat;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Write as a JSON number, or spelled when not finite.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        PyFloat(*x).serialize(s)
    }

    /// Read a JSON number or a spelled float.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        PyFloat::deserialize(d).map(|p| p.0)
    }
}

/// [`number`] for an optional time argument (`null` is `None`).
pub mod number_opt {
    use super::PyFloat;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Write as null, a JSON number, or spelled when not finite.
    pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        x.map(PyFloat).serialize(s)
    }

    /// Read null, a JSON number or a spelled float.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<PyFloat>::deserialize(d).map(|p| p.map(|p| p.0))
    }
}
