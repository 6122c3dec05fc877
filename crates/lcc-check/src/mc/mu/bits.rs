//! Fixed-size bitsets over the states of a graph.

/// A set of states `0..len`. Bits at and beyond `len` are always zero.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    pub fn filled(len: usize, value: bool) -> Bits {
        let mut bits = Bits { words: vec![if value { u64::MAX } else { 0 }; len.div_ceil(64)], len };
        bits.trim();
        bits
    }

    fn trim(&mut self) {
        let extra = self.words.len() * 64 - self.len;
        if extra > 0
            && let Some(last) = self.words.last_mut()
        {
            *last &= u64::MAX >> extra;
        }
    }

    pub fn get(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }

    pub fn set(&mut self, i: usize) {
        if i < self.len
            && let Some(w) = self.words.get_mut(i / 64)
        {
            *w |= 1 << (i % 64);
        }
    }

    pub fn clear(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    /// The same set, or its complement.
    pub fn complemented_if(&self, complement: bool) -> Bits {
        if !complement {
            return self.clone();
        }
        let mut bits = Bits { words: self.words.iter().map(|w| !w).collect(), len: self.len };
        bits.trim();
        bits
    }

    pub fn and(&self, other: &Bits) -> Bits {
        Bits { words: self.words.iter().zip(&other.words).map(|(a, b)| a & b).collect(), len: self.len }
    }

    pub fn or(&self, other: &Bits) -> Bits {
        Bits { words: self.words.iter().zip(&other.words).map(|(a, b)| a | b).collect(), len: self.len }
    }

    /// Removes the elements not in `other`, returning them.
    pub fn retain_in(&mut self, other: &Bits) -> Vec<usize> {
        let mut removed = Vec::new();
        for (i, (w, o)) in
            self.words.iter_mut().zip(other.words.iter().chain(std::iter::repeat(&0))).enumerate()
        {
            let mut gone = *w & !o;
            *w &= o;
            while gone != 0 {
                removed.push(i * 64 + gone.trailing_zeros() as usize);
                gone &= gone - 1;
            }
        }
        removed
    }
}
