//! Every till operation: validate, change the document(s), append the
//! change(s), update the projections, commit — or change nothing and return a
//! typed error.

pub mod catalog_fixes;
pub mod catalog_ops;
pub mod categories;
pub mod chart;
pub mod count;
pub mod favourites;
pub mod lookup;
pub mod parked;
pub mod refund;
pub mod sell;
pub mod stock;

pub use catalog_fixes::{MergeReport, TaxClassEdit};
pub use catalog_ops::{NewProduct, NewSupplier, NewTaxClass, ProductEdit, SupplierEdit};
pub use count::CountScope;
pub use refund::RefundRequest;
pub use sell::{CartLine, TenderInput};
pub use stock::ReceiveLine;
