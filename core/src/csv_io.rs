//! Product CSV import and export.
//!
//! Header: `sku,name,price,barcode,tax_class,cost,reorder_point,supplier,category,reorder_target`.
//! Several barcodes go in one field separated by `;`. `supplier` is a
//! supplier id or a supplier's exact name. `category` is a category id or
//! name; a name no category has yet creates that category with the import. Import adds new SKUs and updates
//! existing ones; a file with any bad row is rejected whole, and the error
//! names the row (the line number in the file) and the field. Only `sku`,
//! `name` and `price` are required: an absent optional column leaves that
//! field of existing products unchanged, an empty cell clears it.
//! Text cells that a spreadsheet would run as a formula are exported with
//! a leading `'`, which the import removes ([`text_cell`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use shopsync_types::{ImportSummary, Progress};

use crate::error::{CoreError, Result};
use crate::ops::catalog_ops::{NewProduct, validate_product};
use crate::ops::lookup;
use crate::store::Store;

pub const HEADER: [&str; 10] = [
    "sku",
    "name",
    "price",
    "barcode",
    "tax_class",
    "cost",
    "reorder_point",
    "supplier",
    "category",
    // purchasing (issue 10): the stock level a reorder brings it up to
    "reorder_target",
];

fn row_error(row: u64, e: CoreError) -> CoreError {
    match e {
        CoreError::Invalid { field, message } => CoreError::CsvRow {
            row,
            field: field.unwrap_or_else(|| "row".into()),
            message,
        },
        CoreError::NotFound { what, key } => CoreError::CsvRow {
            row,
            field: what.replace(' ', "_"),
            message: format!("{what} '{key}' not found"),
        },
        CoreError::Conflict(message) => CoreError::CsvRow {
            row,
            field: if message.starts_with("barcode") {
                "barcode".into()
            } else {
                "sku".into()
            },
            message,
        },
        other => other,
    }
}

/// What a spreadsheet runs as a formula when a cell starts with it.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a text cell is written with a leading `'`: it starts with a
/// formula character, or with a `'` that [`from_text_cell`] would remove
/// (so every text round-trips).
fn needs_quote(text: &str) -> bool {
    text.starts_with(FORMULA_START)
        || text
            .strip_prefix('\'')
            .is_some_and(|rest| rest.starts_with(FORMULA_START) || rest.starts_with('\''))
}

/// A text cell as exported: a name like `=HYPERLINK(…)` (from the catalog,
/// which any till's edits reach by sync) gets a leading `'`, so a
/// spreadsheet shows it as text instead of running it.
pub fn text_cell(text: &str) -> String {
    if needs_quote(text) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// A text cell as imported: the `'` [`text_cell`] added is removed.
pub fn from_text_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl Store {
    pub fn import_products_csv(
        &mut self,
        path: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportSummary> {
        let file = std::fs::File::open(path)
            .map_err(|e| CoreError::io(format!("cannot read {}", path.display()), e))?;
        self.import_products_reader(file, progress)
    }

    pub fn import_products_reader(
        &mut self,
        input: impl std::io::Read,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportSummary> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| CoreError::CsvRow {
                row: 1,
                field: "header".into(),
                message: e.to_string(),
            })?
            .clone();
        let mut col: HashMap<&str, usize> = HashMap::new();
        for name in HEADER {
            let idx = headers.iter().position(|h| h.eq_ignore_ascii_case(name));
            match idx {
                Some(i) => {
                    col.insert(name, i);
                }
                None if name == "sku" || name == "name" || name == "price" => {
                    return Err(CoreError::CsvRow {
                        row: 1,
                        field: name.into(),
                        message: format!("the header has no '{name}' column"),
                    });
                }
                None => {}
            }
        }
        if let Some(unknown) = headers
            .iter()
            .find(|h| !HEADER.iter().any(|k| k.eq_ignore_ascii_case(h)))
        {
            return Err(CoreError::CsvRow {
                row: 1,
                field: unknown.to_string(),
                message: format!("unknown column '{unknown}'"),
            });
        }
        let suppliers = self.suppliers()?;
        let categories = CategoryNames::of(&self.categories(true)?);
        // Categories this file names that do not exist yet: (id, name),
        // created with the import.
        let mut new_categories = NewCategories::default();
        let currency = self.currency;
        let mut seen_skus: HashSet<String> = HashSet::new();
        let mut seen_barcodes: HashSet<String> = HashSet::new();
        let mut items: Vec<(Option<String>, NewProduct)> = Vec::new();
        let mut summary = ImportSummary {
            added: 0,
            updated: 0,
            unchanged: 0,
        };

        for (i, rec) in reader.records().enumerate() {
            let row = rec
                .as_ref()
                .ok()
                .and_then(|r| r.position())
                .map_or(i as u64 + 2, |p| p.line());
            let rec = rec.map_err(|e| CoreError::CsvRow {
                row,
                field: "row".into(),
                message: e.to_string(),
            })?;
            let get =
                |name: &str| from_text_cell(col.get(name).and_then(|&i| rec.get(i)).unwrap_or(""));
            // A column absent from the file leaves that field of an existing
            // product unchanged; an empty cell clears it. New products get
            // the default (none) for an absent column.
            let has = |name: &str| col.contains_key(name);
            let existing = lookup::by_sku(&self.conn, currency, get("sku"))?;
            let money = |field: &str| -> Result<Option<i64>> {
                opt(get(field))
                    .map(|t| {
                        currency.parse(&t).map_err(|e| CoreError::CsvRow {
                            row,
                            field: field.into(),
                            message: e.to_string(),
                        })
                    })
                    .transpose()
            };
            let price = money("price")?.ok_or_else(|| CoreError::CsvRow {
                row,
                field: "price".into(),
                message: "price is required".into(),
            })?;
            let reorder_point = if !has("reorder_point") {
                existing.as_ref().and_then(|e| e.reorder_point)
            } else {
                opt(get("reorder_point"))
                    .map(|t| {
                        t.parse::<i64>().map_err(|_| CoreError::CsvRow {
                            row,
                            field: "reorder_point".into(),
                            message: format!("'{t}' is not a whole number"),
                        })
                    })
                    .transpose()?
            };
            let reorder_target = if !has("reorder_target") {
                existing.as_ref().and_then(|e| e.reorder_target)
            } else {
                opt(get("reorder_target"))
                    .map(|t| {
                        t.parse::<i64>().map_err(|_| CoreError::CsvRow {
                            row,
                            field: "reorder_target".into(),
                            message: format!("'{t}' is not a whole number"),
                        })
                    })
                    .transpose()?
            };
            let supplier = match opt(get("supplier")) {
                None if !has("supplier") => existing.as_ref().and_then(|e| e.supplier.clone()),
                None => None,
                Some(s) => {
                    let by_id = suppliers.iter().find(|x| x.id == s);
                    let by_name: Vec<_> = suppliers.iter().filter(|x| x.name == s).collect();
                    match (by_id, by_name.as_slice()) {
                        (Some(x), _) => Some(x.id.clone()),
                        (None, [x]) => Some(x.id.clone()),
                        (None, []) => {
                            return Err(CoreError::CsvRow {
                                row,
                                field: "supplier".into(),
                                message: format!("supplier '{s}' not found"),
                            });
                        }
                        (None, _) => {
                            return Err(CoreError::CsvRow {
                                row,
                                field: "supplier".into(),
                                message: format!("several suppliers are named '{s}': use the id"),
                            });
                        }
                    }
                }
            };
            let product = NewProduct {
                sku: get("sku").to_string(),
                name: get("name").to_string(),
                price,
                cost: if has("cost") {
                    money("cost")?
                } else {
                    existing.as_ref().and_then(|e| e.cost.map(|c| c.minor))
                },
                barcodes: if has("barcode") {
                    get("barcode")
                        .split(';')
                        .map(str::trim)
                        .filter(|b| !b.is_empty())
                        .map(str::to_string)
                        .collect()
                } else {
                    existing
                        .as_ref()
                        .map(|e| e.barcodes.clone())
                        .unwrap_or_default()
                },
                tax_class: if has("tax_class") {
                    opt(get("tax_class"))
                } else {
                    existing.as_ref().and_then(|e| e.tax_class.clone())
                },
                supplier,
                category: None,
                reorder_point,
                reorder_target,
            };
            let category = match opt(get("category")) {
                None if !has("category") => existing.as_ref().and_then(|e| e.category.clone()),
                None => None,
                Some(text) => Some(csv_category(
                    &text,
                    &categories,
                    &mut new_categories,
                    existing.as_ref().and_then(|e| e.category.as_deref()),
                    row,
                )?),
            };
            if !seen_skus.insert(product.sku.to_lowercase()) {
                return Err(CoreError::CsvRow {
                    row,
                    field: "sku".into(),
                    message: format!("SKU '{}' appears twice in the file", product.sku),
                });
            }
            for b in &product.barcodes {
                if !seen_barcodes.insert(b.to_lowercase()) {
                    return Err(CoreError::CsvRow {
                        row,
                        field: "barcode".into(),
                        message: format!("barcode '{b}' appears twice in the file"),
                    });
                }
            }
            let mut product = product;
            // A category made by this import does not exist yet: checked
            // above, not by `validate_product`.
            product.category = category.clone().filter(|c| !new_categories.ids.contains(c));
            validate_product(
                &self.conn,
                &product,
                existing.as_ref().map(|e| e.id.as_str()),
            )
            .map_err(|e| row_error(row, e))?;
            product.category = category;
            match existing {
                Some(e) => {
                    let same = e.name == product.name.trim()
                        && e.price.minor == product.price
                        && e.cost.map(|c| c.minor) == product.cost
                        && e.barcodes == product.barcodes
                        && e.tax_class == product.tax_class
                        && e.supplier == product.supplier
                        && e.reorder_point == product.reorder_point
                        && e.reorder_target == product.reorder_target
                        && e.category == product.category
                        && e.sku == product.sku.trim();
                    if same {
                        summary.unchanged += 1;
                    } else {
                        summary.updated += 1;
                        items.push((Some(e.id), product));
                    }
                }
                None => {
                    summary.added += 1;
                    items.push((None, product));
                }
            }
            if i % 1000 == 0 {
                progress(Progress {
                    stage: "checking rows".into(),
                    done: i as u64,
                    total: 0,
                });
            }
        }
        // Every row is checked: only writing can fail from here on.
        self.create_categories(&new_categories.list)?;
        let total = items.len() as u64;
        progress(Progress {
            stage: "importing".into(),
            done: 0,
            total,
        });
        self.upsert_products(items, &mut |done| {
            progress(Progress {
                stage: "importing".into(),
                done,
                total,
            })
        })?;
        progress(Progress {
            stage: "done".into(),
            done: total,
            total,
        });
        Ok(summary)
    }

    /// Writes active products as CSV to `path`, all or nothing (never over
    /// the store). Returns how many were written.
    pub fn export_products_csv_to(&self, path: &std::path::Path) -> Result<u64> {
        crate::export_file::write_export(&self.path, path, |w| self.export_products_csv(w))
    }

    /// Writes active products as CSV. Returns how many were written.
    pub fn export_products_csv(&self, out: impl std::io::Write) -> Result<u64> {
        let suppliers = self.suppliers()?;
        let categories = CategoryNames::of(&self.categories(true)?);
        let mut w = csv::Writer::from_writer(out);
        let csv_err =
            |e: csv::Error| CoreError::io("cannot write CSV", std::io::Error::other(e.to_string()));
        w.write_record(HEADER).map_err(csv_err)?;
        let mut n = 0;
        for p in self.search_products("", u32::MAX, false)? {
            let supplier = p.supplier.as_ref().map(|id| {
                let name = suppliers
                    .iter()
                    .find(|s| &s.id == id)
                    .map(|s| s.name.clone());
                let unique = name
                    .as_ref()
                    .is_some_and(|nm| suppliers.iter().filter(|s| &s.name == nm).count() == 1);
                if unique {
                    name.unwrap_or_default()
                } else {
                    id.clone()
                }
            });
            w.write_record([
                text_cell(&p.sku),
                text_cell(&p.name),
                p.price.to_string(),
                text_cell(&p.barcodes.join(";")),
                text_cell(p.tax_class.as_deref().unwrap_or_default()),
                p.cost.map(|c| c.to_string()).unwrap_or_default(),
                p.reorder_point.map(|r| r.to_string()).unwrap_or_default(),
                text_cell(&supplier.unwrap_or_default()),
                text_cell(
                    &p.category
                        .as_deref()
                        .map(|c| categories.export(c))
                        .unwrap_or_default(),
                ),
                p.reorder_target.map(|r| r.to_string()).unwrap_or_default(),
            ])
            .map_err(csv_err)?;
            n += 1;
        }
        w.flush()
            .map_err(|e| CoreError::io("cannot write CSV", e))?;
        Ok(n)
    }
}

/// The store's categories, looked up by id and by name (any case) in
/// constant time: a file of 100k rows is checked in one pass.
struct CategoryNames {
    /// id → (name, archived)
    by_id: HashMap<String, (String, bool)>,
    /// lower-cased name → ids
    by_name: HashMap<String, Vec<String>>,
}

impl CategoryNames {
    fn of(list: &[shopsync_types::Category]) -> Self {
        let mut by_id = HashMap::new();
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for c in list {
            by_id.insert(c.id.clone(), (c.name.clone(), c.archived));
            by_name
                .entry(c.name.to_lowercase())
                .or_default()
                .push(c.id.clone());
        }
        CategoryNames { by_id, by_name }
    }

    /// A category as the export writes it: its name when no other category
    /// has that name, else its id (free text from older products as it is).
    fn export(&self, id: &str) -> String {
        match self.by_id.get(id) {
            Some((name, _)) if self.by_name.get(&name.to_lowercase()).map(Vec::len) == Some(1) => {
                name.clone()
            }
            _ => id.to_string(),
        }
    }
}

/// Categories a file names that do not exist yet, created with its import.
#[derive(Default)]
struct NewCategories {
    /// (id, name) in the order first named
    list: Vec<(String, String)>,
    /// lower-cased name → id
    by_name: HashMap<String, String>,
    ids: HashSet<String>,
}

/// The category id a CSV cell names: the product's own category text kept
/// as it is (free text from before categories were managed, or an archived
/// one), an existing category's id or name (archived ones refused), the
/// same new name seen earlier in the file, or a new category to create.
fn csv_category(
    text: &str,
    categories: &CategoryNames,
    new: &mut NewCategories,
    current: Option<&str>,
    row: u64,
) -> Result<String> {
    let err = |message: String| CoreError::CsvRow {
        row,
        field: "category".into(),
        message,
    };
    if current == Some(text) {
        return Ok(text.to_string());
    }
    let found: Vec<&String> = if let Some((id, _)) = categories.by_id.get_key_value(text) {
        vec![id]
    } else {
        categories
            .by_name
            .get(&text.to_lowercase())
            .map(|ids| ids.iter().collect())
            .unwrap_or_default()
    };
    match found.as_slice() {
        [id] => match categories.by_id.get(*id) {
            Some((name, true)) if current != Some(id.as_str()) => Err(err(format!(
                "category '{name}' is archived: restore it first"
            ))),
            _ => Ok((*id).clone()),
        },
        [] => {
            let key = text.to_lowercase();
            if let Some(id) = new.by_name.get(&key) {
                return Ok(id.clone());
            }
            if text.len() > 100 || text.chars().any(char::is_control) {
                return Err(err(
                    "a category name is at most 100 bytes, without control characters".into(),
                ));
            }
            let id = crate::ids::new_id();
            new.list.push((id.clone(), text.to_string()));
            new.by_name.insert(key, id.clone());
            new.ids.insert(id.clone());
            Ok(id)
        }
        _ => Err(err(format!(
            "several categories are named '{text}': use the id"
        ))),
    }
}
