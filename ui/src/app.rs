//! The app shell: first launch or the till's screens, the navigation, the
//! message line, job progress and the sync indicator.

use leptos::prelude::*;
use shopsync_types::ipc::{EVENT_DATA_CHANGED, EVENT_JOB_PROGRESS, JobProgress, StaffSession};
use shopsync_types::{ErrorInfo, Locale, StoreInfo};

use crate::api;
use crate::components::sync::SyncIndicator;
use crate::guard;
use crate::i18n;
use crate::pages;
use crate::staff;
use crate::util::{describe, spawn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Sell,
    Orders,
    Products,
    Stock,
    Sales,
    Suppliers,
    Settings,
    Drawer,
    Purchasing,
}

impl Page {
    /// In the navigation's order.
    pub const ALL: [Page; 9] = [
        Page::Sell,
        Page::Orders,
        Page::Products,
        Page::Stock,
        Page::Sales,
        Page::Suppliers,
        Page::Settings,
        Page::Drawer,
        Page::Purchasing,
    ];

    pub fn label(self) -> String {
        match self {
            Page::Sell => tr!("nav-sell"),
            Page::Orders => tr!("nav-orders"),
            Page::Products => tr!("nav-products"),
            Page::Stock => tr!("nav-stock"),
            Page::Sales => tr!("nav-sales"),
            Page::Suppliers => tr!("nav-suppliers"),
            Page::Settings => tr!("nav-settings"),
            Page::Drawer => tr!("nav-drawer"),
            Page::Purchasing => tr!("nav-purchasing"),
        }
    }

    /// Its Alt+digit key (Orders came last, so the others kept theirs).
    pub fn shortcut(self) -> char {
        match self {
            Page::Sell => '1',
            Page::Products => '2',
            Page::Stock => '3',
            Page::Sales => '4',
            Page::Suppliers => '5',
            Page::Settings => '6',
            Page::Orders => '7',
            Page::Drawer => '8',
            Page::Purchasing => '9',
        }
    }

    pub fn from_key(key: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn key(self) -> &'static str {
        match self {
            Page::Sell => "sell",
            Page::Orders => "orders",
            Page::Products => "products",
            Page::Stock => "stock",
            Page::Sales => "sales",
            Page::Suppliers => "suppliers",
            Page::Settings => "settings",
            Page::Drawer => "drawer",
            Page::Purchasing => "purchasing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub kind: MsgKind,
    pub text: String,
}

/// App-wide state, passed to every page.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub page: RwSignal<Page>,
    pub info: RwSignal<Option<StoreInfo>>,
    pub message: RwSignal<Option<Msg>>,
    pub progress: RwSignal<Option<JobProgress>>,
    /// Bumped when data changed behind the page's back (a job finished).
    pub data_version: RwSignal<u64>,
    /// A dialog is open: the sell screen leaves the focus alone.
    pub dialog_open: RwSignal<bool>,
    /// Pickup orders nobody has looked at yet (the Orders button's badge).
    pub new_orders: RwSignal<u64>,
    /// The language the screens are shown in (chosen in Settings).
    pub locale: RwSignal<Locale>,
    /// Staff and who is signed in, as the shell last said (`None` until
    /// asked, and while no store is open).
    pub staff: RwSignal<Option<StaffSession>>,
    /// Products at or below their reorder point (the Purchasing button's badge).
    pub low_stock: RwSignal<u64>,
}

impl Ctx {
    /// The open store changed (opened, created, renamed, its settings
    /// saved): days and times on screen follow its time zone from now on,
    /// before anything renders with the new info.
    pub fn set_info(&self, info: Option<StoreInfo>) {
        crate::util::set_store_zone(info.as_ref().map_or("", |i| i.time_zone.as_str()));
        let open = info.is_some();
        self.info.set(info);
        // A store just created, joined from a bundle or enrolled may have
        // staff: the PIN pad comes before any page.
        if open {
            self.refresh_staff();
        }
    }

    pub fn error(&self, e: &ErrorInfo) {
        self.message.set(Some(Msg {
            kind: MsgKind::Error,
            text: describe(e),
        }));
    }

    pub fn info(&self, text: impl Into<String>) {
        self.message.set(Some(Msg {
            kind: MsgKind::Info,
            text: text.into(),
        }));
    }

    /// Re-reads the count of new pickup orders for the badge.
    pub fn refresh_new_orders(&self) {
        let me = *self;
        spawn(async move {
            if me.info.get_untracked().is_none() {
                return;
            }
            if let Ok(n) = api::new_order_count().await {
                me.new_orders.set(n);
            }
        });
    }

    /// Re-reads the low-stock count for the Purchasing badge. It reads
    /// every product's stock, so one read at a time: a burst of triggers
    /// while one runs asks nothing more of the store.
    pub fn refresh_low_stock(&self) {
        thread_local! {
            static IN_FLIGHT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if IN_FLIGHT.with(|f| f.replace(true)) {
            return;
        }
        let me = *self;
        spawn(async move {
            if me.info.get_untracked().is_some()
                && let Ok(a) = api::low_stock_alerts().await
            {
                let _ = me.low_stock.try_set(a.count);
            }
            IN_FLIGHT.with(|f| f.set(false));
        });
    }

    /// Shows the screens in another language at once and keeps the choice
    /// in the store file, for this till.
    pub fn choose_locale(&self, l: Locale) {
        self.locale.set(l);
        let me = *self;
        spawn(async move {
            if let Err(e) = api::set_ui_language(l.tag()).await {
                me.error(&e);
            }
        });
    }

    /// Asks the shell who is signed in (at start, after a sync, after
    /// staff were edited).
    pub fn refresh_staff(&self) {
        let me = *self;
        spawn(async move {
            if me.info.get_untracked().is_none() {
                return;
            }
            if let Ok(s) = api::staff_session().await
                && me.staff.get_untracked().as_ref() != Some(&s)
            {
                me.staff.set(Some(s));
            }
        });
    }

    pub fn clear(&self) {
        self.message.set(None);
    }

    pub fn decimals(&self) -> u8 {
        self.info
            .with_untracked(|i| {
                i.as_ref()
                    .and_then(|i| shopsync_types::Currency::from_code(&i.currency).ok())
            })
            .map_or(2, |c| c.decimals)
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        // A reload (it should never happen; see guard.rs) comes back to the same screen.
        page: RwSignal::new(
            guard::recall(guard::PAGE_KEY)
                .and_then(|k| Page::from_key(&k))
                .unwrap_or(Page::Sell),
        ),
        info: RwSignal::new(None),
        message: RwSignal::new(None),
        progress: RwSignal::new(None),
        data_version: RwSignal::new(0),
        dialog_open: RwSignal::new(false),
        new_orders: RwSignal::new(0),
        locale: RwSignal::new(webview_locale()),
        staff: RwSignal::new(None),
        low_stock: RwSignal::new(0),
    };
    staff::register(ctx.staff);
    staff::idle::install(ctx);
    Effect::new(move |_| guard::remember(guard::PAGE_KEY, ctx.page.get().key()));
    let loaded = RwSignal::new(false);
    let db_path = RwSignal::new(String::new());

    spawn(async move {
        api::listen::<JobProgress>(EVENT_JOB_PROGRESS, move |p| ctx.progress.set(Some(p))).await;
        api::listen::<serde_json_value::Any>(EVENT_DATA_CHANGED, move |_| {
            ctx.progress.set(None);
            ctx.data_version.update(|v| *v += 1);
            // A sync may have brought staff edits (a deactivation).
            ctx.refresh_staff();
            // A sync may have brought new store settings (its name, its
            // time zone) from another till.
            if ctx.info.get_untracked().is_some() {
                spawn(async move {
                    if let Ok(s) = api::app_status().await
                        && s.store.is_some()
                        && s.store != ctx.info.get_untracked()
                    {
                        ctx.set_info(s.store);
                    }
                });
            }
        })
        .await;
    });
    spawn(async move {
        match api::app_status().await {
            Ok(s) => {
                db_path.set(s.db_path);
                // The till's own choice, once it has a store; until then
                // the webview's language.
                if s.store.is_some()
                    && let Ok(tag) = api::ui_language().await
                    && let Some(l) = Locale::from_tag(&tag)
                {
                    ctx.locale.set(l);
                }
                // Before the first screen: with staff, the PIN pad comes first.
                if s.store.is_some() {
                    match api::staff_session().await {
                        Ok(st) => ctx.staff.set(Some(st)),
                        Err(e) => ctx.error(&e),
                    }
                }
                ctx.set_info(s.store);
            }
            Err(e) => ctx.error(&e),
        }
        loaded.set(true);
    });

    // The badge: when the store opens, when data changed behind the UI's
    // back (a sync brought orders), on every change of screen, and every
    // 30 s (another program may write the store file, e.g. the CLI).
    Effect::new(move |_| {
        ctx.data_version.track();
        ctx.page.track();
        ctx.info.track();
        ctx.refresh_new_orders();
    });
    // The low-stock badge likewise, but not when the cashier returns to
    // Sell: the next scan must not wait behind a read of every product.
    Effect::new(move |_| {
        ctx.data_version.track();
        ctx.info.track();
        ctx.refresh_low_stock();
    });
    Effect::new(move |_| {
        if ctx.page.get() != Page::Sell {
            ctx.refresh_low_stock();
        }
    });
    let _poll = set_interval_with_handle(
        move || {
            ctx.refresh_new_orders();
            ctx.refresh_low_stock();
        },
        std::time::Duration::from_secs(30),
    );

    // F-key navigation works everywhere.
    let _keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ctx.dialog_open.get_untracked()
            || ctx.info.get_untracked().is_none()
            || ctx.staff.with_untracked(staff::locked)
        {
            return;
        }
        let page = match ev.key().as_str() {
            "F1" => Some(Page::Sell),
            _ if ev.alt_key() => match ev.key().as_str() {
                "1" => Some(Page::Sell),
                "2" => Some(Page::Products),
                "3" => Some(Page::Stock),
                "4" => Some(Page::Sales),
                "5" => Some(Page::Suppliers),
                "6" => Some(Page::Settings),
                "7" => Some(Page::Orders),
                "8" => Some(Page::Drawer),
                "9" => Some(Page::Purchasing),
                _ => None,
            },
            _ => None,
        };
        if let Some(p) = page {
            ev.prevent_default();
            ctx.page.set(p);
        }
    });

    // The whole tree is drawn again in the new language when it changes.
    move || {
        let l = ctx.locale.get();
        i18n::set_locale(l);
        // The page's language, for screen readers and the webview's own text.
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", l.tag());
        }
        view! {
            <div class="app" data-testid="app" data-lang=l.tag() data-ready=move || loaded.get().to_string()>
                <header class="topbar">
                    <div class="brand" data-testid="store-name">
                        {move || ctx.info.get().map(|i| format!("{} · {}", i.store_name, i.till_name)).unwrap_or_else(|| "ShopSync".into())}
                    </div>
                    <nav class="nav">
                        {move || (ctx.info.get().is_some() && !ctx.staff.with(staff::locked)).then(|| Page::ALL.iter().map(|p| {
                            let p = *p;
                            view! {
                                <button
                                    class="nav-btn"
                                    class:active=move || ctx.page.get() == p
                                    data-testid=format!("nav-{}", p.key())
                                    title=format!("Alt+{}", p.shortcut())
                                    on:click=move |_| { ctx.clear(); ctx.page.set(p) }
                                >
                                    {p.label()}
                                    {(p == Page::Orders).then(|| view! {
                                        <span class="nav-badge" data-testid="orders-badge"
                                            data-count=move || ctx.new_orders.get().to_string()
                                            class:hidden=move || ctx.new_orders.get() == 0
                                            title=tr!("nav-new-orders")>
                                            {move || ctx.new_orders.get().to_string()}
                                        </span>
                                    })}
                                    {(p == Page::Purchasing).then(|| view! {
                                        <span class="nav-badge" data-testid="low-stock-badge"
                                            data-count=move || ctx.low_stock.get().to_string()
                                            class:hidden=move || ctx.low_stock.get() == 0
                                            title=tr!("nav-low-stock")>
                                            {move || ctx.low_stock.get().to_string()}
                                        </span>
                                    })}
                                </button>
                            }
                        }).collect_view())}
                    </nav>
                    <SignedInBadge ctx=ctx />
                    <SyncIndicator ctx=ctx />
                </header>
                <Message ctx=ctx />
                <JobBar ctx=ctx />
                <main class="content">
                    {move || {
                        if !loaded.get() {
                            return view! { <p class="muted">{tr!("app-opening")}</p> }.into_any();
                        }
                        let info = ctx.info.get();
                        if let Some(i) = &info {
                            i18n::set_currency(&i.currency);
                        }
                        if info.is_none() {
                            return view! { <pages::first_launch::FirstLaunch ctx=ctx db_path=db_path /> }.into_any();
                        }
                        // The pages are not drawn while locked: no key
                        // reaches them; the Sell screen's cart is kept
                        // and comes back with the next person.
                        if ctx.staff.with(staff::locked) {
                            return view! { <staff::sign_in::SignInScreen ctx=ctx /> }.into_any();
                        }
                        match ctx.page.get() {
                            Page::Sell => view! { <pages::sell::SellPage ctx=ctx /> }.into_any(),
                            Page::Orders => view! { <pages::orders::OrdersPage ctx=ctx /> }.into_any(),
                            Page::Products => view! { <pages::products::ProductsPage ctx=ctx /> }.into_any(),
                            Page::Stock => view! { <pages::stock::StockPage ctx=ctx /> }.into_any(),
                            Page::Sales => view! { <pages::sales::SalesPage ctx=ctx /> }.into_any(),
                            Page::Suppliers => view! { <pages::suppliers::SuppliersPage ctx=ctx /> }.into_any(),
                            Page::Settings => view! { <pages::settings::SettingsPage ctx=ctx db_path=db_path /> }.into_any(),
                            Page::Drawer => view! { <pages::drawer::DrawerPage ctx=ctx /> }.into_any(),
                            Page::Purchasing => view! { <pages::purchasing::PurchasingPage ctx=ctx /> }.into_any(),
                        }
                    }}
                </main>
                <staff::approval::ApprovalDialog ctx=ctx />
            </div>
        }
    }
}

/// Who is signed in, and Lock: the next person types their PIN (the
/// sale in progress stays).
#[component]
fn SignedInBadge(ctx: Ctx) -> impl IntoView {
    let lock = move || {
        spawn(async move {
            match api::sign_out().await {
                Ok(s) => ctx.staff.set(Some(s)),
                Err(e) => ctx.error(&e),
            }
        });
    };
    move || {
        ctx.staff.get().and_then(|s| s.signed_in).map(|who| {
            view! {
                <div class="signed-in">
                    <span data-testid="staff-signed-in" data-role=who.role.clone()>
                        {format!("{} · {}", who.name, staff::role_label(&who.role))}
                    </span>
                    <button class="btn" data-testid="staff-lock" title=tr!("staff-lock-hint")
                        on:click=move |_| lock()>{tr!("staff-lock")}</button>
                </div>
            }
        })
    }
}

/// The webview's language if the till speaks it, else English.
fn webview_locale() -> Locale {
    web_sys::window()
        .and_then(|w| w.navigator().language())
        .and_then(|tag| Locale::from_tag(&tag))
        .unwrap_or_default()
}

#[component]
fn Message(ctx: Ctx) -> impl IntoView {
    move || {
        ctx.message.get().map(|m| {
            let class = match m.kind {
                MsgKind::Info => "message info",
                MsgKind::Error => "message error",
            };
            view! {
                <div class=class role="alert" data-testid="message" data-kind=match m.kind { MsgKind::Info => "info", MsgKind::Error => "error" }>
                    <span data-testid="message-text">{m.text}</span>
                    <button class="link" data-testid="message-close" aria-label=tr!("message-close") on:click=move |_| ctx.clear()>"×"</button>
                </div>
            }
        })
    }
}

#[component]
fn JobBar(ctx: Ctx) -> impl IntoView {
    move || {
        ctx.progress.get().map(|p| {
            let pct = (p.done * 100).checked_div(p.total).unwrap_or(0).min(100);
            view! {
                <div class="jobbar" data-testid="job-progress">
                    <span>{format!("{}: {} {}/{}", p.job, p.stage, p.done, p.total)}</span>
                    <div class="bar"><div class="fill" style=format!("width:{pct}%")></div></div>
                </div>
            }
        })
    }
}

/// Any event payload (the UI only needs to know the event happened).
pub mod serde_json_value {
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Any;

    impl<'de> serde::Deserialize<'de> for Any {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d).map(|_| Any)
        }
    }
}
