//! A bar chart drawn as SVG (no chart library, no CDN).

use leptos::prelude::*;
use shopsync_types::ipc::ChartBucket;

#[component]
pub fn BarChart(
    title: String,
    buckets: Vec<ChartBucket>,
    testid: &'static str,
    /// Show every n-th label on the axis.
    label_every: usize,
) -> impl IntoView {
    let width = 720.0_f64;
    let height = 220.0_f64;
    let top = 16.0;
    let bottom = 28.0;
    let left = 8.0;
    let max = buckets
        .iter()
        .map(|b| b.total.minor)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = buckets.len().max(1) as f64;
    let slot = (width - left * 2.0) / n;
    let bar_w = (slot * 0.7).max(1.0);
    let plot_h = height - top - bottom;
    let bars = buckets
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let h = (b.total.minor.max(0) as f64 / max) * plot_h;
            let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
            let y = top + plot_h - h;
            let show_label = label_every <= 1 || i % label_every == 0;
            let label = b.label.get(5..).filter(|l| !l.is_empty()).unwrap_or(&b.label).to_string();
            let tip = tr!("chart-tip", label = b.label.clone(), total = crate::util::money(&b.total), sales = b.sales);
            view! {
                <g>
                    <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{bar_w:.1}") height=format!("{h:.1}") class="bar-rect">
                        <title>{tip}</title>
                    </rect>
                    {show_label.then(|| view! {
                        <text x=format!("{:.1}", x + bar_w / 2.0) y=format!("{:.1}", height - 10.0) class="axis-label" text-anchor="middle">{label}</text>
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {width} {height}") role="img" aria-label=title preserveAspectRatio="none" class="chart-svg">
                <line x1="0" y1=format!("{:.1}", top + plot_h) x2=format!("{width}") y2=format!("{:.1}", top + plot_h) class="axis" />
                {bars}
            </svg>
        </figure>
    }
}
