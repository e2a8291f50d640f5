//! Excel workbooks out (xlsx): one sheet of text cells with a bold, frozen header row, written
//! row by row in constant memory. Registers in China are exchanged as Excel files; this is how
//! Wangge hands a list back to the people who keep them.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// An Excel sheet holds at most this many rows, the header included.
pub const MAX_ROWS: usize = 1_048_576;

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("too many rows for one sheet: {0} (at most {max})", max = MAX_ROWS - 1)]
    TooManyRows(usize),
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
}

/// Sheet names: at most 31 characters and none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "Sheet1".to_owned()
    } else {
        clean
    }
}

/// A workbook with one sheet: `headers`, then `rows` of text cells.
pub fn xlsx(name: &str, headers: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, SheetError> {
    if rows.len() >= MAX_ROWS {
        return Err(SheetError::TooManyRows(rows.len()));
    }
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name(sheet_name(name))?;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col(c), h, &bold)?;
        sheet.set_column_width(col(c), 14)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| SheetError::TooManyRows(rows.len()))?;
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r, col(c), v)?;
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sheet_xml(bytes: &[u8]) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        let mut shared = String::new();
        if let Ok(mut f) = zip.by_name("xl/sharedStrings.xml") {
            f.read_to_string(&mut shared).unwrap();
        }
        xml + &shared
    }

    #[test]
    fn writes_headers_and_rows_as_text() {
        let bytes = xlsx(
            "送书上门/老党员",
            &["地址".into(), "状态".into()],
            &[
                vec!["和平小区1号楼1单元101".into(), "已完成".into()],
                vec!["和平小区1号楼1单元102".into(), String::new()],
            ],
        )
        .unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let xml = sheet_xml(&bytes);
        for text in ["地址", "状态", "和平小区1号楼1单元101", "已完成"] {
            assert!(xml.contains(text), "{text} missing");
        }
        assert!(xml.contains("<pane"), "header row frozen");
    }

    #[test]
    fn sheet_names_are_cleaned() {
        assert_eq!(sheet_name("a/b:c"), "abc");
        assert_eq!(sheet_name("??"), "Sheet1");
        assert_eq!(sheet_name(&"长".repeat(40)).chars().count(), 31);
    }
}
