//! Database URLs made fit to print: passwords and secret-looking parameters masked.

/// A database URL fit to print: the password in the user info and every query parameter that
/// can carry a secret (`password`, `sslpassword`, anything with `secret`, `token` or `key` in
/// its name) become `***`. `postgres://u:pw@h/db?password=x` → `postgres://u:***@h/db?password=***`.
pub fn redact_url(url: &str) -> String {
    // The user info ends at the last `@`: a password may hold `/`, `?` or `@` of its own. When
    // in doubt, more is masked, never less.
    let (prefix, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let (user, rest) = match rest.rsplit_once('@') {
        Some((userinfo, after)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***@")
            } else {
                format!("{user}@")
            };
            (masked, after)
        }
        None => (String::new(), rest),
    };
    let (head, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let mut out = format!("{prefix}{user}{head}");
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split_once('=').map_or(pair, |(n, _)| n);
                let lower = name.to_ascii_lowercase();
                if ["password", "secret", "token", "key"]
                    .iter()
                    .any(|s| lower.contains(s))
                {
                    format!("{name}=***")
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}
