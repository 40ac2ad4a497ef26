//! Compact instance data for lists of small tuples: `[(0, 1), (2, 3)]` is
//! stored as the flat JSON array `[0, 1, 2, 3]` instead of an array of
//! arrays.
//!
//! Why: `Instance::data` is a `serde_json::Value` tree, where every inner
//! array is one more allocation to build, walk and free. For a 20-edge graph
//! the nested form costs 21 arrays where the flat one costs one, which is a
//! large share of generating and verifying the cheapest environments.
//!
//! Use on a `Vec` of 2- or 3-tuples: `#[serde(with = "crate::util::flat")]`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserializer, Serialize, Serializer};

/// A tuple written as consecutive items of a flat sequence.
pub trait Flat: Sized {
    /// Items per tuple.
    const ARITY: usize;
    /// Write the tuple's items.
    fn write<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error>;
    /// Read one tuple; `None` at the end of the sequence, an error if it
    /// ends inside a tuple.
    fn read<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Option<Self>, A::Error>;
}

fn rest<'de, A: SeqAccess<'de>, T: DeserializeOwned>(
    seq: &mut A,
    arity: usize,
) -> Result<T, A::Error> {
    seq.next_element()?.ok_or_else(|| {
        de::Error::custom(format_args!(
            "flat list of {arity}-tuples: the item count is not a multiple of {arity}"
        ))
    })
}

impl<X, Y> Flat for (X, Y)
where
    X: Serialize + DeserializeOwned,
    Y: Serialize + DeserializeOwned,
{
    const ARITY: usize = 2;

    fn write<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        seq.serialize_element(&self.0)?;
        seq.serialize_element(&self.1)
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Option<Self>, A::Error> {
        let Some(x) = seq.next_element()? else {
            return Ok(None);
        };
        Ok(Some((x, rest(seq, Self::ARITY)?)))
    }
}

impl<X, Y, Z> Flat for (X, Y, Z)
where
    X: Serialize + DeserializeOwned,
    Y: Serialize + DeserializeOwned,
    Z: Serialize + DeserializeOwned,
{
    const ARITY: usize = 3;

    fn write<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        seq.serialize_element(&self.0)?;
        seq.serialize_element(&self.1)?;
        seq.serialize_element(&self.2)
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Option<Self>, A::Error> {
        let Some(x) = seq.next_element()? else {
            return Ok(None);
        };
        let y = rest(seq, Self::ARITY)?;
        Ok(Some((x, y, rest(seq, Self::ARITY)?)))
    }
}

/// Serialize `items` as one flat sequence.
pub fn serialize<T: Flat, S: Serializer>(items: &[T], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(items.len() * T::ARITY))?;
    for t in items {
        t.write(&mut seq)?;
    }
    seq.end()
}

/// Deserialize a flat sequence back into tuples.
pub fn deserialize<'de, T: Flat, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: Flat> Visitor<'de> for V<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a flat array of {}-tuples", T::ARITY)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0) / T::ARITY);
            while let Some(t) = T::read(&mut seq)? {
                out.push(t);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct D {
        #[serde(with = "super")]
        pairs: Vec<(usize, usize)>,
        #[serde(with = "super")]
        triples: Vec<(usize, i32, u64)>,
    }

    #[test]
    fn round_trips_flat() {
        let d = D {
            pairs: vec![(0, 1), (2, 3)],
            triples: vec![(4, -5, 6)],
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v, json!({"pairs": [0, 1, 2, 3], "triples": [4, -5, 6]}));
        assert_eq!(D::deserialize(&v).unwrap(), d);
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<D>(&text).unwrap(), d);
    }

    #[test]
    fn empty_lists() {
        let v = json!({"pairs": [], "triples": []});
        let d = D::deserialize(&v).unwrap();
        assert!(d.pairs.is_empty() && d.triples.is_empty());
    }

    #[test]
    fn rejects_partial_tuples_and_wrong_types() {
        for bad in [
            json!({"pairs": [0, 1, 2], "triples": []}),
            json!({"pairs": [], "triples": [1, 2, 3, 4]}),
            json!({"pairs": [[0, 1]], "triples": []}),
            json!({"pairs": [0, -1], "triples": []}),
            json!({"pairs": {}, "triples": []}),
        ] {
            let err = D::deserialize(&bad).unwrap_err().to_string();
            assert!(!err.is_empty(), "{bad}");
        }
        let err = D::deserialize(&json!({"pairs": [0, 1, 2], "triples": []}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a multiple of 2"), "{err}");
    }
}
