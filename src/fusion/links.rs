//! `[[links]]`: matches the config says are one, for what recognition misses (a competition
//! named differently, a team the alias table does not know, teams listed the other way round).

use std::collections::HashMap;

/// Groups of source-qualified match ids (`fifa:300331552`) that are one match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// Match id → its group's position.
    group_of: HashMap<String, usize>,
    groups: Vec<Vec<String>>,
}

/// A `[[links]]` entry that cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinksError {
    /// Fewer than two matches.
    #[error("name at least two matches")]
    TooFew(usize),
    /// Not `<source>:<match id>`.
    #[error("`{1}` is not <source id>:<match id>")]
    NotQualified(usize, String),
    /// Two matches of one source cannot be one match.
    #[error("two matches of source `{1}` cannot be one match")]
    SameSource(usize, String),
    /// A match in two groups.
    #[error("`{1}` is already linked in links[{2}]")]
    Twice(usize, String, usize),
}

impl LinksError {
    /// The position of the `[[links]]` entry.
    pub fn index(&self) -> usize {
        match self {
            Self::TooFew(i)
            | Self::NotQualified(i, _)
            | Self::SameSource(i, _)
            | Self::Twice(i, ..) => *i,
        }
    }
}

impl Links {
    /// The groups, checked.
    ///
    /// # Errors
    /// A group of fewer than two, an id without its source, two matches of one source, or a
    /// match in two groups.
    pub fn new(groups: Vec<Vec<String>>) -> Result<Self, LinksError> {
        let mut group_of = HashMap::new();
        for (i, group) in groups.iter().enumerate() {
            if group.len() < 2 {
                return Err(LinksError::TooFew(i));
            }
            let mut sources = Vec::new();
            for id in group {
                let Some((source, _)) = id
                    .split_once(':')
                    .filter(|(s, r)| !s.is_empty() && !r.is_empty())
                else {
                    return Err(LinksError::NotQualified(i, id.clone()));
                };
                if sources.contains(&source) {
                    return Err(LinksError::SameSource(i, source.to_owned()));
                }
                sources.push(source);
                if let Some(earlier) = group_of.insert(id.clone(), i) {
                    return Err(LinksError::Twice(i, id.clone(), earlier));
                }
            }
        }
        Ok(Self { group_of, groups })
    }

    /// The other matches linked with `id`.
    pub fn linked(&self, id: &str) -> impl Iterator<Item = &str> {
        self.group_of
            .get(id)
            .map(|&g| self.groups[g].as_slice())
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .filter(move |other| *other != id)
    }

    /// The source names of every linked match (for checking them against `[sources]`).
    pub fn sources(&self) -> impl Iterator<Item = (usize, &str)> {
        self.groups.iter().enumerate().flat_map(|(i, group)| {
            group
                .iter()
                .filter_map(move |id| id.split_once(':').map(|(source, _)| (i, source)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(groups: &[&[&str]]) -> Result<Links, LinksError> {
        Links::new(
            groups
                .iter()
                .map(|g| g.iter().map(|s| (*s).to_owned()).collect())
                .collect(),
        )
    }

    #[test]
    fn a_group_links_its_matches_both_ways() {
        let l = links(&[&["fifa:1", "fd:9", "apif:3"]]).unwrap();
        assert_eq!(l.linked("fd:9").collect::<Vec<_>>(), ["fifa:1", "apif:3"]);
        assert_eq!(l.linked("fifa:2").count(), 0);
    }

    #[test]
    fn bad_groups_are_named() {
        assert_eq!(links(&[&["fifa:1"]]), Err(LinksError::TooFew(0)));
        assert_eq!(
            links(&[&["fifa:1", "9"]]),
            Err(LinksError::NotQualified(0, "9".into()))
        );
        assert_eq!(
            links(&[&["fifa:1", "fifa:2"]]),
            Err(LinksError::SameSource(0, "fifa".into()))
        );
        assert_eq!(
            links(&[&["fifa:1", "fd:9"], &["fd:9", "apif:3"]]),
            Err(LinksError::Twice(1, "fd:9".into(), 0))
        );
    }
}
