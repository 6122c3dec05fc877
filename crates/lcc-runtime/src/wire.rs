//! The JSON encoding of values in the constraint ABI (`docs/constraint-abi.md`, section 3).
//!
//! | LCC value              | JSON                                    |
//! |------------------------|-----------------------------------------|
//! | unbound (`_`)          | `null`                                  |
//! | atom `apple`, `'?'`    | `"apple"`, `"?"`                        |
//! | integer `3`            | `3`                                     |
//! | float `2.5`            | `2.5` (`{"float": 3}` forces a float)   |
//! | string `"hi"`          | `{"string": "hi"}`                      |
//! | list `[a, 1]`          | `["a", 1]`                              |
//! | compound `f(a, 1)`     | `{"functor": "f", "args": ["a", 1]}`    |
//!
//! Floats that JSON cannot write (NaN, infinities) are `{"float": "nan"}`, `{"float": "inf"}`
//! and `{"float": "-inf"}`. Decoding is strict: booleans, objects of any other shape and
//! integers beyond 64 bits are errors that say where the offending part is.

use lcc_check::mc::value::Value;
use serde_json::{Map, Number, Value as Json};
use smol_str::SmolStr;

/// The JSON form of a value.
pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Unbound => Json::Null,
        Value::Atom(a) => Json::String(a.to_string()),
        Value::Int(n) => Json::Number(Number::from(*n)),
        Value::Float(x) => match Number::from_f64(*x) {
            Some(n) => Json::Number(n),
            None => {
                let name = if x.is_nan() {
                    "nan"
                } else if *x > 0.0 {
                    "inf"
                } else {
                    "-inf"
                };
                object([("float", Json::String(name.into()))])
            }
        },
        Value::Str(s) => object([("string", Json::String(s.to_string()))]),
        Value::List(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Compound(f, args) => object([
            ("functor", Json::String(f.to_string())),
            ("args", Json::Array(args.iter().map(value_to_json).collect())),
        ]),
    }
}

/// The JSON form of several values (an argument vector or a solution).
pub fn values_to_json(values: &[Value]) -> Json {
    Json::Array(values.iter().map(value_to_json).collect())
}

/// The value a JSON value encodes. The error says what was wrong and where, relative to the
/// value given (`args[1]: expected …`).
pub fn value_from_json(json: &Json) -> Result<Value, String> {
    value_from_json_at(json, "")
}

/// [`value_from_json`] for a value found at `path` in a larger document (`solutions[0][2]`):
/// errors name their place below `path`.
pub fn value_from_json_at(json: &Json, path: &str) -> Result<Value, String> {
    decode(json).map_err(|e| {
        let place = format!("{path}{}", e.place);
        let place = place.strip_prefix('.').unwrap_or(&place);
        if place.is_empty() { e.what } else { format!("{place}: {}", e.what) }
    })
}

fn object<const N: usize>(entries: [(&str, Json); N]) -> Json {
    Json::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<String, Json>>())
}

/// A short quotation of a JSON value for error messages.
pub(crate) fn brief(json: &Json) -> String {
    truncate(&json.to_string(), 60)
}

/// The first `max` characters of `text`, with `…` when something was cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or(text)),
        None => text.to_string(),
    }
}

const EXPECTED_VALUE: &str = "expected a value (null, string, number, array, {\"string\": …}, \
                              {\"functor\": …, \"args\": […]} or {\"float\": …})";

/// A decoding error: what was wrong, and where (`.args[1]`, built while unwinding so that
/// decoding a good value allocates no paths).
struct Error {
    place: String,
    what: String,
}

impl Error {
    fn new(what: impl Into<String>) -> Self {
        Error { place: String::new(), what: what.into() }
    }
    fn under(mut self, segment: impl std::fmt::Display) -> Self {
        self.place = format!("{segment}{}", self.place);
        self
    }
}

fn decode(json: &Json) -> Result<Value, Error> {
    match json {
        Json::Null => Ok(Value::Unbound),
        Json::String(s) => Ok(Value::Atom(SmolStr::new(s))),
        Json::Number(n) => number(n),
        Json::Bool(b) => Err(Error::new(format!(
            "{EXPECTED_VALUE}, found `{b}` (booleans are not values; write the atom as \"{b}\")"
        ))),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| decode(item).map_err(|e| e.under(format_args!("[{i}]"))))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        Json::Object(fields) => decode_object(json, fields),
    }
}

fn number(n: &Number) -> Result<Value, Error> {
    if let Some(i) = n.as_i64() {
        Ok(Value::Int(i))
    } else if n.is_u64() {
        Err(Error::new(format!("the integer {n} does not fit in 64 signed bits")))
    } else {
        match n.as_f64() {
            Some(x) => Ok(Value::Float(x)),
            None => Err(Error::new(format!("the number {n} is not representable"))),
        }
    }
}

fn decode_object(json: &Json, fields: &Map<String, Json>) -> Result<Value, Error> {
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    match keys.as_slice() {
        ["string"] => match fields.get("string") {
            Some(Json::String(s)) => Ok(Value::Str(SmolStr::new(s))),
            other => Err(expected_found("a JSON string", other).under(".string")),
        },
        ["float"] => match fields.get("float") {
            Some(Json::Number(n)) => match n.as_f64() {
                Some(x) => Ok(Value::Float(x)),
                None => Err(Error::new(format!("the number {n} is not representable")).under(".float")),
            },
            Some(Json::String(s)) if s == "nan" => Ok(Value::Float(f64::NAN)),
            Some(Json::String(s)) if s == "inf" => Ok(Value::Float(f64::INFINITY)),
            Some(Json::String(s)) if s == "-inf" => Ok(Value::Float(f64::NEG_INFINITY)),
            other => Err(expected_found("a number, \"nan\", \"inf\" or \"-inf\"", other).under(".float")),
        },
        ["args", "functor"] | ["functor", "args"] => {
            let functor = match fields.get("functor") {
                Some(Json::String(f)) => SmolStr::new(f),
                other => return Err(expected_found("a JSON string", other).under(".functor")),
            };
            let args = match fields.get("args") {
                Some(Json::Array(args)) => args,
                other => return Err(expected_found("an array of values", other).under(".args")),
            };
            args.iter()
                .enumerate()
                .map(|(i, arg)| decode(arg).map_err(|e| e.under(format_args!(".args[{i}]"))))
                .collect::<Result<Vec<_>, _>>()
                .map(|args| Value::Compound(functor, args))
        }
        _ => Err(Error::new(format!("{EXPECTED_VALUE}, found {}", brief(json)))),
    }
}

fn expected_found(expected: &str, found: Option<&Json>) -> Error {
    match found {
        Some(found) => Error::new(format!("expected {expected}, found {}", brief(found))),
        None => Error::new(format!("expected {expected}, found nothing")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;
    use proptest::prelude::*;

    fn atom(s: &str) -> Value {
        Value::Atom(SmolStr::new(s))
    }

    fn decode_str(text: &str) -> Result<Value, String> {
        value_from_json(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn encodes_every_kind() {
        let v = Value::Compound(
            "f".into(),
            vec![
                atom("a"),
                Value::Int(-3),
                Value::Float(2.5),
                Value::Str("hi".into()),
                Value::List(vec![Value::Unbound, atom("?")]),
            ],
        );
        assert_eq!(
            value_to_json(&v).to_string(),
            r#"{"args":["a",-3,2.5,{"string":"hi"},[null,"?"]],"functor":"f"}"#
        );
        assert_eq!(decode_str(&value_to_json(&v).to_string()), Ok(v));
    }

    #[test]
    fn floats_stay_floats() {
        assert_eq!(value_to_json(&Value::Float(3.0)).to_string(), "3.0");
        assert_eq!(decode_str("3.0"), Ok(Value::Float(3.0)));
        assert_eq!(decode_str("3"), Ok(Value::Int(3)));
        assert_eq!(decode_str("1e3"), Ok(Value::Float(1000.0)));
        assert_eq!(decode_str(r#"{"float": 3}"#), Ok(Value::Float(3.0)));
        assert_eq!(value_to_json(&Value::Float(f64::INFINITY)).to_string(), r#"{"float":"inf"}"#);
        assert_eq!(decode_str(r#"{"float": "-inf"}"#), Ok(Value::Float(f64::NEG_INFINITY)));
        match decode_str(&value_to_json(&Value::Float(f64::NAN)).to_string()) {
            Ok(Value::Float(x)) => assert!(x.is_nan()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            decode_str(r#"{"functor": "f", "args": ["a", true]}"#).unwrap_err(),
            format!(
                "args[1]: {EXPECTED_VALUE}, found `true` (booleans are not values; write the atom as \"true\")"
            )
        );
        assert_eq!(
            decode_str(r#"[1, [2, {"string": 3}]]"#).unwrap_err(),
            "[1][1].string: expected a JSON string, found 3"
        );
        assert_eq!(
            value_from_json_at(&serde_json::json!({"functor": 1, "args": []}), "solutions[0][2]")
                .unwrap_err(),
            "solutions[0][2].functor: expected a JSON string, found 1"
        );
        assert_eq!(
            decode_str(r#"{"functor": "f", "args": 3}"#).unwrap_err(),
            "args: expected an array of values, found 3"
        );
        assert_eq!(
            decode_str(r#"{"functor": "f", "args": [], "x": 1}"#).unwrap_err(),
            format!(r#"{EXPECTED_VALUE}, found {{"args":[],"functor":"f","x":1}}"#)
        );
        assert_eq!(
            decode_str("18446744073709551615").unwrap_err(),
            "the integer 18446744073709551615 does not fit in 64 signed bits"
        );
        assert!(decode_str(r#"{"float": "big"}"#).unwrap_err().starts_with("float: expected a number"));
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("héllo", 5), "héllo");
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let name = "[a-z?' é\"\\\\]{0,6}";
        let leaf = prop_oneof![
            Just(Value::Unbound),
            name.prop_map(|s| Value::Atom(SmolStr::new(s))),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::Float),
            prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-0.0)].prop_map(Value::Float),
            name.prop_map(|s| Value::Str(SmolStr::new(s))),
        ];
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                (name, prop::collection::vec(inner, 0..4))
                    .prop_map(|(f, args)| Value::Compound(SmolStr::new(f), args)),
            ]
        })
    }

    /// Equality with floats compared by their bits (`-0.0` is not `0.0`).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::List(xs), Value::List(ys)) => {
                xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
            }
            (Value::Compound(f, xs), Value::Compound(g, ys)) => {
                f == g && xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
            }
            (a, b) => a == b,
        }
    }

    proptest! {
        #[test]
        fn round_trips(v in arb_value()) {
            let json = value_to_json(&v);
            let back = value_from_json(&json).unwrap();
            prop_assert!(same(&v, &back), "{v:?} came back as {back:?}");
            let text = json.to_string();
            let back = value_from_json(&serde_json::from_str(&text).unwrap()).unwrap();
            prop_assert!(same(&v, &back), "{v:?} came back from {text} as {back:?}");
        }
    }
}
