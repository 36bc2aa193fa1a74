//! The system's file picker, driven as a person drives it. The till opens
//! its pickers in the shell (GTK's file chooser on Linux, a window of its
//! own, outside the page), so WebDriver cannot reach them: these helpers
//! find the picker's window by its title with `xdotool`, give it the
//! keyboard focus and type into it through XTEST, like a real keyboard.
//!
//! GTK's chooser takes the keyboard only when a window manager gives it the
//! focus: `scripts/e2e.sh` runs openbox on its Xvfb display. Without one,
//! the focus set on the picker does not hold and the keys reach the till's
//! window behind it; keys sent to the picker's own window (XSendEvent) are
//! ignored by GTK.
//!
//! In GTK's chooser, Ctrl+L opens the location field of an open dialog (a
//! save dialog has its name field focused already); a full path typed there
//! and Return choose that file. Escape cancels.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::app::x_send;
use crate::{App, TIMEOUT, screenshot_dir};

/// Which kind of picker: what to type to reach its file name field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picker {
    /// Choose an existing file.
    Open,
    /// Choose where to save: the path typed over the suggested name (GTK
    /// asks before replacing a file: tests save to new paths).
    Save,
    /// Save under the suggested name, in the folder given as the path
    /// (typed in front of the name).
    SaveIn,
}

impl App {
    /// Waits for the file picker titled `title`, chooses `path` in it and
    /// waits until it has closed.
    pub async fn choose_file(&self, title: &str, picker: Picker, path: &Path) -> Result<()> {
        let window = self.picker_window(title).await?;
        let typed = format!("type:{}", path.display());
        let folder = format!("type:{}/", path.display());
        let keys: &[&str] = match picker {
            // Ctrl+A: whatever the field holds already (the suggested name,
            // or the folder) is replaced.
            Picker::Open => &["ctrl+l", "ctrl+a", &typed, "Return"],
            Picker::Save => &["ctrl+a", &typed, "Return"],
            Picker::SaveIn => &["Home", &folder, "Return"],
        };
        x_send(keys).await?;
        self.picker_closed(title, &window).await
    }

    /// Waits for the file picker titled `title` and cancels it (Escape).
    pub async fn cancel_file_dialog(&self, title: &str) -> Result<()> {
        let window = self.picker_window(title).await?;
        x_send(&["Escape"]).await?;
        self.picker_closed(title, &window).await
    }

    /// The picker's X window, once it is shown, with the keyboard focus.
    async fn picker_window(&self, title: &str) -> Result<String> {
        let pid = self.pid()?;
        let started = Instant::now();
        loop {
            if let Some(w) = visible_windows(&pid, title)?.pop() {
                // The chooser fills its file list and sets its own focus
                // just after it maps; keys sent before that are lost.
                tokio::time::sleep(Duration::from_millis(700)).await;
                focus_window(&w).await?;
                return Ok(w);
            }
            if started.elapsed() > TIMEOUT {
                screen_shot("failure-no-file-picker");
                bail!("no file picker titled {title:?} opened within {TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn picker_closed(&self, title: &str, window: &str) -> Result<()> {
        let pid = self.pid()?;
        let started = Instant::now();
        while visible_windows(&pid, title)?.iter().any(|w| w == window) {
            if started.elapsed() > TIMEOUT {
                screen_shot("failure-file-picker-open");
                window_tree("failure-file-picker-open", window);
                bail!(
                    "the file picker {title:?} was still open {TIMEOUT:?} after the keys \
                     (screenshot of the whole display: failure-file-picker-open.png)"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

/// Gives window `w` the X keyboard focus: asks the window manager to
/// activate it, sets the focus and clicks inside (near its top edge, clear
/// of the chooser's controls), until X reports the focus there. Keys typed
/// elsewhere would be lost, and the picker then stays open: that failure
/// names the picker.
async fn focus_window(w: &str) -> Result<()> {
    let xdotool = |args: &[&str]| {
        Command::new("timeout")
            .arg("10")
            .arg("xdotool")
            .args(args)
            .output()
    };
    for _ in 0..10 {
        let _ = xdotool(&["windowactivate", "--sync", w]);
        let _ = xdotool(&["windowfocus", "--sync", w]);
        let _ = xdotool(&["mousemove", "--window", w, "400", "3"]);
        let _ = xdotool(&["click", "1"]);
        let focused = xdotool(&["getwindowfocus"])
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        if focused == w {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Keys sent now would go to the till's window behind the picker.
    screen_shot("failure-file-picker-focus");
    bail!("the file picker (window {w}) did not take the keyboard focus")
}

/// The visible windows of process `pid` titled exactly `title`. `--all`:
/// xdotool's search matches any one of its conditions by default, which
/// answered every window of the app (the till's own window too, which never
/// closes: the picker seemed to stay open).
fn visible_windows(pid: &str, title: &str) -> Result<Vec<String>> {
    let out = Command::new("timeout")
        .args(["10", "xdotool", "search", "--all", "--onlyvisible"])
        .args(["--pid", pid])
        .args(["--name", &format!("^{}$", regex_escape(title))])
        .output()
        .context("cannot run xdotool: apt-get install xdotool")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect())
}

/// xdotool matches `--name` as a regular expression.
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.^$|?*+()[]{}".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// What X knows of window `w` and the whole window tree, beside the
/// screenshot: which window was still there, mapped or not.
fn window_tree(name: &str, w: &str) {
    if let Ok(dir) = screenshot_dir() {
        let mut text = String::new();
        for args in [
            vec!["xwininfo", "-id", w, "-all"],
            vec!["xprop", "-id", w],
            vec!["xwininfo", "-root", "-tree"],
        ] {
            if let Ok(o) = Command::new("timeout").arg("10").args(&args).output() {
                text.push_str(&format!("$ {}\n", args.join(" ")));
                text.push_str(&String::from_utf8_lossy(&o.stdout));
                text.push_str(&String::from_utf8_lossy(&o.stderr));
            }
        }
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}.txt")), text);
    }
}

/// The whole X display (the picker is not in the page, so WebDriver's
/// screenshot would not show it), best effort with ImageMagick's `import`.
fn screen_shot(name: &str) {
    if let Ok(dir) = screenshot_dir() {
        let _ = std::fs::create_dir_all(&dir);
        let _ = Command::new("timeout")
            .args(["10", "import", "-window", "root"])
            .arg(dir.join(format!("{name}.png")))
            .output();
    }
}
