//! Counts a change's operations from its encoded columns, without expanding
//! them, so a change that claims millions of operations in a few bytes is
//! refused before Automerge walks them.
//!
//! How `automerge::Change::try_from` (0.12) finds the operations: after the
//! metadata (dependencies, actor, seq, start op, time, message, other actors)
//! comes a list of (column spec, length) pairs and then the columns' data.
//! It iterates rows until the action column (id 4, integer) is exhausted,
//! reading one value from every known column per row, and a row's
//! predecessor list reads as many values from the grouped predecessor
//! columns as the group column says. So its work is bounded by the largest
//! row count of any column; unknown columns are not read, and a change with
//! individually deflated columns is refused. Counting rows only needs the run
//! headers: a run's length and its one value, a literal run's values (each at
//! least a byte, so skipping them costs what reading them costs), a null
//! run's length, a boolean column's run lengths.
//!
//! The readers below mirror Automerge's exactly where it accepts input (its
//! strict LEB128 for the metadata, the `leb128` crate's for column data), so
//! a change Automerge decodes is counted as Automerge counts it; where they
//! are stricter (unknown columns must decode too, lengths must fit the
//! bytes) the change is refused, which bounds the work all the same.

use super::{ChangeBytesError, MAX_INFLATED_CHANGE_BYTES};

const HASH_BYTES: u64 = 32;
const DEFLATE_BIT: u32 = 0b1000;
const TYPE_BITS: u32 = 0b0111;
/// Column id 4 of type integer: the actions, one per operation. Automerge
/// stops iterating operations when this column ends.
const ACTION_COLUMN: u32 = (4 << 4) | 2;

/// How a column's data is encoded, from the low three bits of its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Group, actor, integer and value metadata columns: run-length encoded
    /// unsigned LEB128.
    RleUnsigned,
    /// Delta columns: run-length encoded signed LEB128 deltas.
    RleSigned,
    /// Run-length encoded, length-prefixed strings.
    RleString,
    /// Alternating run lengths of false and true.
    Boolean,
    /// Raw value bytes: no rows of its own (its metadata column has them).
    Raw,
}

impl Encoding {
    fn of(spec: u32) -> Self {
        match spec & TYPE_BITS {
            3 => Encoding::RleSigned,
            4 => Encoding::Boolean,
            5 => Encoding::RleString,
            7 => Encoding::Raw,
            _ => Encoding::RleUnsigned,
        }
    }
}

/// One entry of the column list: its spec and how many data bytes it has.
#[derive(Debug, Clone, Copy)]
struct ColumnMeta {
    spec: u32,
    len: u64,
}

/// The operations of a change chunk's (inflated) data `body`, counted from
/// its action column. Refuses the change (`TooManyOps`) if that column, or
/// any other, holds more than `limit` rows, and (`Decode`) if it cannot be
/// read.
pub(super) fn count_ops(body: &[u8], limit: usize) -> Result<usize, ChangeBytesError> {
    let mut r = Reader::new(body);
    skip_change_metadata(&mut r)?;
    let columns = read_column_list(&mut r)?;
    let mut ops = 0;
    let mut text = TextBytes::default();
    for column in columns {
        let data = r.take(column.len, "column data")?;
        let rows = column_rows(column.spec, data, limit, &mut text)?;
        if column.spec == ACTION_COLUMN {
            ops = ops.max(rows);
        }
    }
    // What follows the columns is the change's extra bytes (its author).
    Ok(ops)
}

/// Dependencies, actor, seq, start op, time, message, other actors: read
/// as Automerge reads them, and checked against the bytes there are.
fn skip_change_metadata(r: &mut Reader<'_>) -> Result<(), ChangeBytesError> {
    let deps = r.uleb_strict()?;
    let deps_len = deps
        .checked_mul(HASH_BYTES)
        .ok_or_else(|| malformed("the dependency count is impossible"))?;
    r.take(deps_len, "dependencies")?;
    r.skip_length_prefixed("actor")?;
    r.uleb_strict()?; // seq
    if r.uleb_strict()? == 0 {
        return Err(malformed("the start op is zero"));
    }
    r.sleb_strict()?; // time
    r.skip_length_prefixed("message")?;
    // Each actor takes at least one byte: the loop ends with the bytes.
    let others = r.uleb_strict()?;
    for _ in 0..others {
        r.skip_length_prefixed("other actor")?;
    }
    Ok(())
}

fn read_column_list(r: &mut Reader<'_>) -> Result<Vec<ColumnMeta>, ChangeBytesError> {
    let count = r.uleb_strict()?;
    // A spec and a length take at least a byte each: a count the bytes
    // cannot hold allocates nothing.
    if count > (r.remaining() / 2) as u64 {
        return Err(malformed("the column count is more than the bytes hold"));
    }
    let mut columns = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let spec = u32::try_from(r.uleb_strict()?)
            .map_err(|_| malformed("a column spec is over 32 bits"))?;
        if spec & DEFLATE_BIT != 0 {
            // Automerge refuses these in a change chunk too.
            return Err(malformed("a column of the change is compressed"));
        }
        let len = r.uleb_strict()?;
        columns.push(ColumnMeta { spec, len });
    }
    Ok(columns)
}

/// The rows `data` holds as a column of `spec`, refused past `limit`.
fn column_rows(
    spec: u32,
    data: &[u8],
    limit: usize,
    text: &mut TextBytes,
) -> Result<usize, ChangeBytesError> {
    let mut r = Reader::new(data);
    let mut rows = Rows::new(limit);
    match Encoding::of(spec) {
        Encoding::RleUnsigned => rle_rows(&mut r, &mut rows, text, Reader::skip_uleb)?,
        Encoding::RleSigned => rle_rows(&mut r, &mut rows, text, Reader::skip_sleb)?,
        Encoding::RleString => rle_rows(&mut r, &mut rows, text, Reader::skip_string)?,
        Encoding::Boolean => boolean_rows(&mut r, &mut rows)?,
        Encoding::Raw => {}
    }
    Ok(rows.total)
}

/// Run-length encoding: a signed count; `n > 0` is a run of one value,
/// `-n` is `n` literal values, `0` is a null run whose length follows.
fn rle_rows<'a>(
    r: &mut Reader<'a>,
    rows: &mut Rows,
    text: &mut TextBytes,
    skip_value: fn(&mut Reader<'a>) -> Result<u64, ChangeBytesError>,
) -> Result<(), ChangeBytesError> {
    while !r.is_empty() {
        let count = r.sleb_lenient()?;
        if count > 0 {
            rows.add(count.unsigned_abs())?;
            let len = skip_value(r)?;
            text.add(count.unsigned_abs(), len)?;
        } else if count < 0 {
            let n = count.unsigned_abs();
            // Counted first: the loop runs at most `limit` times, and each
            // value takes at least a byte.
            rows.add(n)?;
            for _ in 0..n {
                let len = skip_value(r)?;
                text.add(1, len)?;
            }
        } else {
            rows.add(r.uleb_lenient()?)?;
        }
    }
    Ok(())
}

fn boolean_rows(r: &mut Reader<'_>, rows: &mut Rows) -> Result<(), ChangeBytesError> {
    while !r.is_empty() {
        rows.add(r.uleb_lenient()?)?;
    }
    Ok(())
}

/// The bytes a change's strings (keys, mark names) take once their runs
/// are expanded: a run of 100,000 copies of one 8 MiB key is a few bytes
/// here, and each copy is a string of its own to whoever reads the
/// operations one by one (validation copies every key).
#[derive(Default)]
struct TextBytes {
    total: u64,
}

impl TextBytes {
    const LIMIT: u64 = MAX_INFLATED_CHANGE_BYTES as u64;

    fn add(&mut self, copies: u64, len: u64) -> Result<(), ChangeBytesError> {
        self.total = copies
            .checked_mul(len)
            .and_then(|n| n.checked_add(self.total))
            .filter(|total| *total <= Self::LIMIT)
            .ok_or(ChangeBytesError::TooLarge {
                limit: MAX_INFLATED_CHANGE_BYTES,
            })?;
        Ok(())
    }
}

/// A row count that refuses to pass its limit.
struct Rows {
    total: usize,
    limit: usize,
}

impl Rows {
    fn new(limit: usize) -> Self {
        Rows { total: 0, limit }
    }

    fn add(&mut self, n: u64) -> Result<(), ChangeBytesError> {
        let too_many = ChangeBytesError::TooManyOps { limit: self.limit };
        let n = usize::try_from(n).map_err(|_| too_many.clone())?;
        self.total = self
            .total
            .checked_add(n)
            .filter(|total| *total <= self.limit)
            .ok_or(too_many)?;
        Ok(())
    }
}

fn malformed(what: &str) -> ChangeBytesError {
    ChangeBytesError::Decode(what.to_string())
}

/// A cursor over untrusted bytes: every read checks what is left.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn byte(&mut self) -> Result<u8, ChangeBytesError> {
        let (&first, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| malformed("a number is cut short"))?;
        self.rest = rest;
        Ok(first)
    }

    fn take(&mut self, len: u64, what: &str) -> Result<&'a [u8], ChangeBytesError> {
        let (head, rest) = usize::try_from(len)
            .ok()
            .and_then(|len| self.rest.split_at_checked(len))
            .ok_or_else(|| malformed(&format!("{what} past the end of the change")))?;
        self.rest = rest;
        Ok(head)
    }

    fn skip_length_prefixed(&mut self, what: &str) -> Result<(), ChangeBytesError> {
        let len = self.uleb_strict()?;
        self.take(len, what).map(|_| ())
    }

    /// Automerge's own LEB128 reader (change metadata): at most ten bytes,
    /// no overlong encodings, nothing past 64 bits.
    fn uleb_strict(&mut self) -> Result<u64, ChangeBytesError> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift > 64 && byte > 1 {
                    return Err(malformed("a number is over 64 bits"));
                }
                if shift > 7 && byte == 0 {
                    return Err(malformed("a number is encoded overlong"));
                }
                return Ok(value);
            }
            if shift > 64 {
                return Err(malformed("a number is over 64 bits"));
            }
        }
    }

    /// Automerge's own signed LEB128 reader (change metadata).
    fn sleb_strict(&mut self) -> Result<i64, ChangeBytesError> {
        let mut value = 0i64;
        let mut shift = 0u32;
        let mut prev = 0u8;
        loop {
            let byte = self.byte()?;
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift > 64 && byte != 0 && byte != 0x7f {
                    return Err(malformed("a number is over 64 bits"));
                }
                let sign_extended =
                    (byte == 0 && prev & 0x40 == 0) || (byte == 0x7f && prev & 0x40 != 0);
                if shift > 7 && sign_extended {
                    return Err(malformed("a number is encoded overlong"));
                }
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            if shift > 64 {
                return Err(malformed("a number is over 64 bits"));
            }
            prev = byte;
        }
    }

    /// The `leb128` crate's reader (column data): overlong encodings pass,
    /// the tenth byte may only hold the 64th bit.
    fn uleb_lenient(&mut self) -> Result<u64, ChangeBytesError> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.byte()?;
            if shift == 63 && byte != 0x00 && byte != 0x01 {
                return Err(malformed("a number in a column is over 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// The `leb128` crate's signed reader (column data).
    fn sleb_lenient(&mut self) -> Result<i64, ChangeBytesError> {
        let mut value = 0i64;
        let mut shift = 0u32;
        loop {
            let byte = self.byte()?;
            if shift == 63 && byte != 0x00 && byte != 0x7f {
                return Err(malformed("a number in a column is over 64 bits"));
            }
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
        }
    }

    /// Skips a number; it expands to no text.
    fn skip_uleb(&mut self) -> Result<u64, ChangeBytesError> {
        self.uleb_lenient().map(|_| 0)
    }

    fn skip_sleb(&mut self) -> Result<u64, ChangeBytesError> {
        self.sleb_lenient().map(|_| 0)
    }

    /// Skips a string, returning its length.
    fn skip_string(&mut self) -> Result<u64, ChangeBytesError> {
        let len = self.uleb_lenient()?;
        self.take(len, "string").map(|_| len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::forge::uleb;
    use super::*;

    #[test]
    fn the_readers_agree_with_the_encodings_automerge_reads() {
        for v in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let bytes = uleb(v);
            assert_eq!(Reader::new(&bytes).uleb_strict().unwrap(), v);
            assert_eq!(Reader::new(&bytes).uleb_lenient().unwrap(), v);
        }
        // Overlong: the columns' reader takes it, the metadata's does not.
        assert_eq!(Reader::new(&[0x80, 0x00]).uleb_lenient().unwrap(), 0);
        assert!(Reader::new(&[0x80, 0x00]).uleb_strict().is_err());
        // Eleven bytes, or a tenth byte past bit 64: refused by both.
        let endless = [0xff; 11];
        assert!(Reader::new(&endless).uleb_strict().is_err());
        assert!(Reader::new(&endless).uleb_lenient().is_err());
        let mut past = vec![0xff; 9];
        past.push(0x02);
        assert!(Reader::new(&past).uleb_strict().is_err());
        assert!(Reader::new(&past).uleb_lenient().is_err());
        // Signed: -1, -64, 63, i64::MIN.
        for (bytes, v) in [
            (vec![0x7f], -1i64),
            (vec![0x40], -64),
            (vec![0x3f], 63),
            (
                vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f],
                i64::MIN,
            ),
        ] {
            assert_eq!(Reader::new(&bytes).sleb_strict().unwrap(), v, "{bytes:?}");
            assert_eq!(Reader::new(&bytes).sleb_lenient().unwrap(), v, "{bytes:?}");
        }
        // Cut short.
        assert!(Reader::new(&[0x80]).uleb_lenient().is_err());
        assert!(Reader::new(&[]).sleb_strict().is_err());
    }

    #[test]
    fn runs_are_counted_without_being_expanded() {
        // A run of 2^40 copies: refused at once, whatever the limit's type.
        let mut run = vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x20]; // sleb 2^40
        run.push(1);
        assert_eq!(
            column_rows(ACTION_COLUMN, &run, 1_000, &mut TextBytes::default()),
            Err(ChangeBytesError::TooManyOps { limit: 1_000 })
        );
        // run of 3, literal run of 2, null run of 4: 9 rows.
        let column = [3, 7, 0x7e, 1, 2, 0, 4];
        assert_eq!(
            column_rows(ACTION_COLUMN, &column, 9, &mut TextBytes::default()),
            Ok(9)
        );
        assert_eq!(
            column_rows(ACTION_COLUMN, &column, 8, &mut TextBytes::default()),
            Err(ChangeBytesError::TooManyOps { limit: 8 })
        );
        // A literal run that claims more values than there are bytes.
        assert!(matches!(
            column_rows(ACTION_COLUMN, &[0x7c, 1], 100, &mut TextBytes::default()),
            Err(ChangeBytesError::Decode(_))
        ));
        // Strings: a run of 2 of "ab"; a string longer than the column.
        assert_eq!(
            column_rows(0x15, &[2, 2, b'a', b'b'], 10, &mut TextBytes::default()),
            Ok(2)
        );
        assert!(matches!(
            column_rows(0x15, &[2, 9, b'a'], 10, &mut TextBytes::default()),
            Err(ChangeBytesError::Decode(_))
        ));
        // Booleans: 2 false, 3 true, 0 false, 1 true.
        assert_eq!(
            column_rows(0x34, &[2, 3, 0, 1], 10, &mut TextBytes::default()),
            Ok(6)
        );
        // Raw value bytes have no rows.
        assert_eq!(
            column_rows(0x57, &[0xff; 8], 0, &mut TextBytes::default()),
            Ok(0)
        );
    }

    #[test]
    fn repeated_strings_are_held_to_the_byte_limit_once_expanded() {
        // A run of 100,000 copies of one 1 KiB key: 100 MB of keys to
        // whoever reads the operations one by one, in ~1 KiB here.
        let key = vec![b'k'; 1024];
        let mut column = uleb(100_000); // a positive run count
        column.extend(uleb(key.len() as u64));
        column.extend(&key);
        assert_eq!(
            column_rows(0x15, &column, 100_000, &mut TextBytes::default()),
            Err(ChangeBytesError::TooLarge {
                limit: MAX_INFLATED_CHANGE_BYTES
            })
        );
        // The same key 1,000 times (1 MiB expanded) passes, and every
        // string column of a change counts towards one total.
        let mut column = uleb(1_000);
        column.extend(uleb(key.len() as u64));
        column.extend(&key);
        let mut text = TextBytes::default();
        for _ in 0..8 {
            assert_eq!(column_rows(0x15, &column, 100_000, &mut text), Ok(1_000));
        }
        assert!(column_rows(0x15, &column, 100_000, &mut text).is_err());
    }
}
