//! The page templates (askama, HTML-escaped automatically) and their data.

use askama::Template;

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignUp<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    pub nickname: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct Home<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    pub nickname: &'a str,
    pub initial: String,
    pub avatar: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "edit.html")]
pub struct Edit<'a> {
    pub csrf: &'a str,
    pub nickname: &'a str,
    pub error: Option<&'a str>,
    pub avatar: Option<&'a str>,
}

/// Renders a template; a rendering failure is a bug, shown as such.
pub fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        log::error!("rendering a page failed: {e}");
        "<!doctype html><h1>500 Internal Server Error</h1>".into()
    })
}
