//! Products: list, search, add, edit, archive; CSV import and export;
//! categories and the Sell screen's favourites (`panels`).

mod panels;

use leptos::prelude::*;
use shopsync_types::ipc::{EditProductInput, MergeProductsInput, ProductInput};
use shopsync_types::{Category, ErrorInfo, Favourite, Product, Supplier, TaxClass};

use crate::api;
use crate::app::Ctx;
use crate::util::{
    describe, file_name, input_text, minor_text, money, parse_money, picker_text, spawn, value,
};

#[derive(Debug, Clone, Default, PartialEq)]
struct Form {
    /// The id of the product being edited; `None` adds a new one.
    editing: Option<String>,
    sku: String,
    name: String,
    price: String,
    cost: String,
    barcodes: String,
    tax_class: String,
    supplier: String,
    category: String,
    reorder_point: String,
    active: bool,
    /// Other products with the same SKU (made on two tills offline).
    sku_clash: Vec<String>,
}

impl Form {
    fn from_product(p: &Product) -> Self {
        Form {
            editing: Some(p.id.clone()),
            sku: p.sku.clone(),
            name: p.name.clone(),
            price: input_text(p.price.minor, p.price.decimals),
            cost: p
                .cost
                .map(|c| input_text(c.minor, c.decimals))
                .unwrap_or_default(),
            barcodes: p.barcodes.join(", "),
            tax_class: p.tax_class.clone().unwrap_or_default(),
            supplier: p.supplier.clone().unwrap_or_default(),
            category: p.category.clone().unwrap_or_default(),
            reorder_point: p.reorder_point.map(|r| r.to_string()).unwrap_or_default(),
            active: p.active,
            sku_clash: p.sku_clash.clone(),
        }
    }

    /// What the core is sent: amounts typed in the cashier's language
    /// ("2,50") go as the core reads them ("2.50").
    fn input(&self, dec: u8) -> Result<ProductInput, String> {
        let amount = |t: &str| parse_money(t, dec).map(|m| minor_text(m, dec));
        let price = match self.price.trim() {
            "" => String::new(),
            t => amount(t).map_err(|e| tr!("products-price-field", error = e))?,
        };
        let cost = match self.cost.trim() {
            "" => None,
            t => Some(amount(t).map_err(|e| tr!("products-cost-field", error = e))?),
        };
        let reorder_point = match self.reorder_point.trim() {
            "" => None,
            t => Some(
                t.parse::<i64>()
                    .map_err(|_| tr!("products-reorder-not-whole", text = t))?,
            ),
        };
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(ProductInput {
            sku: self.sku.trim().to_string(),
            name: self.name.trim().to_string(),
            price,
            cost,
            barcodes: self
                .barcodes
                .split([',', ';', ' '])
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_string)
                .collect(),
            tax_class: opt(&self.tax_class),
            supplier: opt(&self.supplier),
            category: opt(&self.category),
            reorder_point,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum ImportState {
    Idle,
    /// The file picker is open (then the import itself runs: the progress
    /// bar shows it).
    Running,
    Done(String),
    Failed(ErrorInfo),
}

#[component]
pub fn ProductsPage(ctx: Ctx) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let archived = RwSignal::new(false);
    let list = RwSignal::new(Vec::<Product>::new());
    let form = RwSignal::new(None::<Form>);
    let taxes = RwSignal::new(Vec::<TaxClass>::new());
    let suppliers = RwSignal::new(Vec::<Supplier>::new());
    let exporting = RwSignal::new(false);
    let import_state = RwSignal::new(ImportState::Idle);
    // money: a till-role device cannot edit the catalog.
    let read_only = RwSignal::new(false);
    let seq = StoredValue::new(0u64);
    // Every category (archived ones too), the category shown (empty:
    // all), and the Sell screen's favourites.
    let cats = RwSignal::new(Vec::<Category>::new());
    let cat_filter = RwSignal::new(String::new());
    let favs = RwSignal::new(Vec::<Favourite>::new());
    // Bumped when the list must be read again after the filter was reset.
    let filter_reset = RwSignal::new(0u32);

    // Categories and favourites (the selects, the column, the stars).
    let load_extras = move || {
        spawn(async move {
            if let Ok(c) = api::categories::list(true).await {
                // A category archived (here or by sync) while it filters the
                // list: the select no longer offers it, so show all again.
                let gone = cat_filter.try_with_untracked(|f| {
                    !f.is_empty() && !c.iter().any(|x| &x.id == f && !x.archived)
                });
                let _ = cats.try_set(c);
                if gone == Some(true) {
                    let _ = cat_filter.try_set(String::new());
                    let _ = filter_reset.try_update(|n| *n += 1);
                }
            }
            if let Ok(f) = api::categories::favourites().await {
                let _ = favs.try_set(f);
            }
        });
    };
    let toggle_favourite = move |p: Product| {
        let on = favs.with_untracked(|f| f.iter().any(|x| x.product_id == p.id));
        spawn(async move {
            let r = if on {
                api::categories::remove_favourite(p.id.clone()).await
            } else {
                api::categories::add_favourite(p.id.clone()).await
            };
            match r {
                Ok(l) => {
                    let _ = favs.try_set(l);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let load = move || {
        // Called after an await too: once the screen was left its state is
        // gone, and reading it would panic.
        if seq.try_get_value().is_none() {
            return;
        }
        let q = query.get_untracked();
        let a = archived.get_untracked();
        let cat = cat_filter.get_untracked();
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        spawn(async move {
            let r = if cat.is_empty() {
                api::search_products(&q, 200, a).await
            } else {
                api::categories::products(&cat, &q, a).await
            };
            if seq.try_get_value() != Some(mine) {
                return;
            }
            match r {
                Ok(l) => list.set(l),
                Err(e) => ctx.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
        spawn(async move {
            if let Ok(st) = api::sync_status().await {
                read_only.set(st.catalog_read_only);
            }
            if let Ok(t) = api::tax_classes().await {
                taxes.set(t);
            }
            if let Ok(s) = api::suppliers().await {
                suppliers.set(s);
            }
        });
        load_extras();
    });

    Effect::new(move |first: Option<()>| {
        filter_reset.track();
        if first.is_some() {
            load();
        }
    });

    let save = move || {
        let Some(f) = form.get_untracked() else {
            return;
        };
        let input = match f.input(ctx.decimals()) {
            Ok(i) => i,
            Err(m) => {
                ctx.info(m);
                return;
            }
        };
        spawn(async move {
            let r = match &f.editing {
                Some(sku) => {
                    api::edit_product(&EditProductInput {
                        sku: sku.clone(),
                        product: input,
                    })
                    .await
                }
                None => api::add_product(&input).await,
            };
            match r {
                Ok(p) => {
                    ctx.info(tr!(
                        "products-saved",
                        name = p.name.clone(),
                        sku = p.sku.clone()
                    ));
                    form.set(Some(Form::from_product(&p)));
                    load();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let merge = move |other: String| {
        let Some(keep) = form.get_untracked().and_then(|f| f.editing) else {
            return;
        };
        spawn(async move {
            match api::merge_products(&MergeProductsInput { keep, other }).await {
                Ok(p) => {
                    ctx.info(tr!(
                        "products-merged",
                        name = p.name.clone(),
                        sku = p.sku.clone()
                    ));
                    form.set(Some(Form::from_product(&p)));
                    load();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let archive = move || {
        let Some(sku) = form.get_untracked().and_then(|f| f.editing) else {
            return;
        };
        spawn(async move {
            match api::archive_product(&sku).await {
                Ok(p) => {
                    ctx.info(tr!("products-archived-msg", sku = p.sku.clone()));
                    form.set(None);
                    load();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let import = move || {
        let before = import_state.get_untracked();
        import_state.set(ImportState::Running);
        let picker = picker_text(tr!("picker-import-csv"), tr!("picker-csv-files"));
        spawn(async move {
            // A long import outlives the screen when the shopkeeper goes
            // to sell meanwhile: then its result goes to the message line
            // (this screen's signals are gone; reading them would panic).
            match api::import_products_csv(&picker).await {
                Ok(Some(p)) => {
                    let s = p.result;
                    let text = tr!(
                        "products-imported",
                        file = file_name(&p.path).to_string(),
                        added = s.added,
                        updated = s.updated,
                        unchanged = s.unchanged
                    );
                    match import_state.try_set(ImportState::Done(text.clone())) {
                        None => load(),
                        Some(_) => ctx.info(text),
                    }
                }
                // Cancelled: as it was before.
                Ok(None) => {
                    let _ = import_state.try_set(before);
                }
                Err(e) => {
                    if import_state
                        .try_set(ImportState::Failed(e.clone()))
                        .is_some()
                    {
                        ctx.error(&e);
                    }
                }
            }
        });
    };
    let export = move || {
        exporting.set(true);
        let picker = picker_text(tr!("picker-export-csv"), tr!("picker-csv-files"));
        spawn(async move {
            match api::export_products_csv(&picker).await {
                Ok(Some(p)) => ctx.info(tr!("products-exported", count = p.result, path = p.path)),
                Ok(None) => {}
                Err(e) => ctx.error(&e),
            }
            // The screen may be gone by now (the picker waits for the person).
            let _ = exporting.try_set(false);
        });
    };

    let field = move |label: String,
                      testid: &'static str,
                      get: fn(&Form) -> String,
                      set: fn(&mut Form, String)| {
        view! {
            <label>{label}
                <input type="text" data-testid=testid
                    prop:value=move || form.with(|f| f.as_ref().map(get).unwrap_or_default())
                    on:input=move |ev| { let v = value(&ev); form.update(|f| if let Some(f) = f { set(f, v) }); } />
            </label>
        }
    };

    // A product's star: on the Sell screen's favourites grid or not.
    let star = move |p: Product| {
        let id = p.id.clone();
        let on = Signal::derive(move || favs.with(|f| f.iter().any(|x| x.product_id == id)));
        let name = p.name.clone();
        let sku = p.sku.clone();
        p.active.then(|| view! {
            <button class="star" type="button" class:on=move || on.get() data-testid=format!("product-star-{sku}")
                data-on=move || on.get().to_string()
                aria-label=move || if on.get() { tr!("favourites-remove", name = name.clone()) } else { tr!("favourites-add", name = name.clone()) }
                disabled=move || read_only.get()
                on:click=move |ev| { ev.stop_propagation(); toggle_favourite(p.clone()); }>
                {move || if on.get() { "★" } else { "☆" }}
            </button>
        })
    };
    let form_view = move || {
        form.get().map(|f| {
            let editing = f.editing.clone();
            view! {
                <form class="card product-form" data-testid="product-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
                    <h2>{match &editing { Some(_) => tr!("products-edit", sku = f.sku.clone()), None => tr!("products-new") }}</h2>
                    {(!f.active && editing.is_some()).then(|| view! { <p class="badge">{tr!("products-archived")}</p> })}
                    {(!f.sku_clash.is_empty()).then(|| view! {
                        <div class="message error" data-testid="product-sku-clash">
                            <div>{tr!("products-sku-clash-text", sku = f.sku.clone())}</div>
                            {f.sku_clash.iter().map(|other| {
                                let other = other.clone();
                                let label = tr!("products-merge-into", other = other.clone());
                                view! { <button class="btn" type="button" data-testid=format!("product-merge-{other}") disabled=move || read_only.get() on:click=move |_| merge(other.clone())>{label}</button> }
                            }).collect_view()}
                        </div>
                    })}
                    {field(tr!("products-sku"), "product-sku", |f| f.sku.clone(), |f, v| f.sku = v)}
                    {field(tr!("products-name"), "product-name", |f| f.name.clone(), |f, v| f.name = v)}
                    {field(tr!("products-price"), "product-price", |f| f.price.clone(), |f, v| f.price = v)}
                    {field(tr!("products-cost"), "product-cost", |f| f.cost.clone(), |f, v| f.cost = v)}
                    {field(tr!("products-barcodes-field"), "product-barcodes", |f| f.barcodes.clone(), |f, v| f.barcodes = v)}
                    <label>{tr!("products-tax-class")}
                        <select data-testid="product-tax" on:change=move |ev| { let v = value(&ev); form.update(|f| if let Some(f) = f { f.tax_class = v }); }>
                            <option value="" selected=f.tax_class.is_empty()>{tr!("products-none")}</option>
                            {taxes.get().into_iter().map(|t| { let sel = t.id == f.tax_class; view! { <option value=t.id.clone() selected=sel>{format!("{} ({}%)", t.name, input_text(i64::from(t.rate_bp), 2))}</option> } }).collect_view()}
                        </select>
                    </label>
                    <label>{tr!("products-supplier")}
                        <select data-testid="product-supplier" on:change=move |ev| { let v = value(&ev); form.update(|f| if let Some(f) = f { f.supplier = v }); }>
                            <option value="" selected=f.supplier.is_empty()>{tr!("products-none")}</option>
                            {suppliers.get().into_iter().map(|s| { let sel = s.id == f.supplier; view! { <option value=s.id.clone() selected=sel>{s.name.clone()}</option> } }).collect_view()}
                        </select>
                    </label>
                    <label>{tr!("products-category")}
                        <select data-testid="product-category" on:change=move |ev| { let v = value(&ev); form.update(|f| if let Some(f) = f { f.category = v }); }>
                            <option value="" selected=f.category.is_empty()>{tr!("products-none")}</option>
                            {cats.get().into_iter().filter(|c| !c.archived || c.id == f.category).map(|c| {
                                let sel = c.id == f.category;
                                let label = panels::category_label(std::slice::from_ref(&c), &c.id);
                                view! { <option value=c.id.clone() data-testid=format!("product-category-opt-{}", c.name) selected=sel>{label}</option> }
                            }).collect_view()}
                            {(!f.category.is_empty() && !cats.with(|l| l.iter().any(|c| c.id == f.category))).then(|| {
                                view! { <option value=f.category.clone() selected=true>{f.category.clone()}</option> }
                            })}
                        </select>
                    </label>
                    {field(tr!("products-reorder"), "product-reorder", |f| f.reorder_point.clone(), |f, v| f.reorder_point = v)}
                    <div class="pay-row end">
                        <button class="btn" type="button" on:click=move |_| form.set(None)>{tr!("products-close")}</button>
                        {editing.is_some().then(|| view! { <button class="btn danger" type="button" data-testid="product-archive" disabled=move || read_only.get() on:click=move |_| archive()>{tr!("products-archive")}</button> })}
                        <button class="btn primary" type="submit" data-testid="product-save" disabled=move || read_only.get()>{tr!("products-save")}</button>
                    </div>
                </form>
            }
        })
    };

    view! {
        <div class="page" data-testid="page-products">
            <div class="toolbar">
                <input type="search" class="grow" placeholder=tr!("products-search") data-testid="products-search"
                    prop:value=move || query.get() on:input=move |ev| { query.set(value(&ev)); load(); } />
                <label class="inline">{tr!("products-category-filter")}
                    <select data-testid="products-category" on:change=move |ev| { cat_filter.set(value(&ev)); load(); }>
                        <option value="" data-testid="products-category-all" selected=move || cat_filter.get().is_empty()>{tr!("products-category-all")}</option>
                        {move || cats.get().into_iter().filter(|c| !c.archived).map(|c| {
                            let id = c.id.clone();
                            view! { <option value=c.id.clone() data-testid=format!("products-category-opt-{}", c.name) selected=move || cat_filter.get() == id>{c.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="inline"><input type="checkbox" data-testid="products-archived" prop:checked=move || archived.get()
                    on:change=move |ev| { archived.set(event_target_checked(&ev)); load(); } />{tr!("products-archived-too")}</label>
                {move || (!read_only.get()).then(|| view! { <button class="btn primary" data-testid="product-new" on:click=move |_| form.set(Some(Form { active: true, ..Form::default() }))>{tr!("products-add")}</button> })}
                {move || read_only.get().then(|| view! { <span class="muted small" data-testid="catalog-read-only">{tr!("products-read-only")}</span> })}
            </div>
            <div class="split">
                <div class="grow scroll">
                    <table class="list" data-testid="products-table">
                        <thead><tr><th>{tr!("products-sku")}</th><th>{tr!("products-name")}</th><th class="num">{tr!("products-price")}</th><th>{tr!("products-barcodes")}</th><th>{tr!("products-tax")}</th><th>{tr!("products-category")}</th><th><span class="sr-only">{tr!("products-favourite")}</span></th><th></th></tr></thead>
                        <tbody>
                        {move || list.get().into_iter().map(|p| {
                            let p2 = p.clone();
                            view! {
                                <tr class="clickable" class:archived=!p.active data-testid=format!("product-row-{}", p.sku) on:click=move |_| form.set(Some(Form::from_product(&p2)))>
                                    <td>{p.sku.clone()}</td><td>{p.name.clone()}</td><td class="num">{money(&p.price)}</td>
                                    <td class="small">{p.barcodes.join(", ")}</td><td>{p.tax_class.clone().unwrap_or_default()}</td>
                                    <td data-testid=format!("product-category-{}", p.sku)>{let c = p.category.clone(); move || c.as_deref().map(|c| cats.with(|l| panels::category_label(l, c)))}</td>
                                    <td>{star(p.clone())}</td>
                                    <td>{(!p.active).then(|| tr!("products-archived"))}
                                        {(!p.sku_clash.is_empty()).then(|| view! { <span class="badge" data-testid=format!("product-sku-clash-{}", p.id) title=tr!("products-sku-clash-title", others = p.sku_clash.join(", "))>{tr!("products-sku-clash")}</span> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="side">
                    {form_view}
                    <panels::FavouritesPanel ctx=ctx favs=favs read_only=read_only />
                    <panels::CategoriesPanel ctx=ctx cats=cats read_only=read_only changed=move || { load_extras(); load(); } />
                    <div class="card" style:display=move || if read_only.get() { "none" } else { "" }>
                        <h2>{tr!("products-import-csv")}</h2>
                        <p class="muted small">{tr!("products-import-hint")}</p>
                        <button class="btn primary" data-testid="csv-import" disabled=move || import_state.get() == ImportState::Running on:click=move |_| import()>{tr!("products-import")}</button>
                        {move || match import_state.get() {
                            ImportState::Idle => ().into_any(),
                            ImportState::Running => view! { <p data-testid="csv-result" data-state="running">{tr!("products-importing")}</p> }.into_any(),
                            ImportState::Done(t) => view! { <p class="ok" data-testid="csv-result" data-state="done">{t}</p> }.into_any(),
                            ImportState::Failed(e) => view! {
                                <div class="message error" data-testid="csv-result" data-state="error">
                                    <strong>{tr!("products-nothing-imported")} " "</strong>
                                    {e.row.map(|r| view! { <span data-testid="csv-error-row">{tr!("products-row", row = r)}</span> })}
                                    {e.field.clone().map(|f| view! { <span>{tr!("products-field", field = f)}</span> })}
                                    <div data-testid="csv-error-message">{describe(&e)}</div>
                                </div>
                            }.into_any(),
                        }}
                    </div>
                    <div class="card">
                        <h2>{tr!("products-export-csv")}</h2>
                        <p class="muted small">{tr!("products-export-hint")}</p>
                        <button class="btn" data-testid="csv-export" disabled=move || exporting.get() on:click=move |_| export()>{tr!("products-export")}</button>
                    </div>
                </div>
            </div>
        </div>
    }
}
