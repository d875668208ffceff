//! Ranking, matching and filtering on a small in-memory index.

use ap_domain::listing::{CatalogFilter, ListingType, PriceFilter};

use super::*;

/// The UUID standing for a short test name (ids in the index are UUIDs).
fn uid(name: &str) -> String {
    let mut bytes = [0u8; 16];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

/// The test names of a result's ids.
fn named(ranked: Ranked) -> Ranked {
    let ids = ranked
        .ids
        .iter()
        .map(|id| {
            let bytes = uuid::Uuid::parse_str(id).expect("uuid").into_bytes();
            String::from_utf8_lossy(&bytes).trim_end_matches('\0').to_owned()
        })
        .collect();
    Ranked { ids, total: ranked.total }
}

fn doc(id: &str, title: &str, description: &str) -> SearchableListing {
    SearchableListing {
        id: uid(id),
        listing_type: ListingType::Skill,
        category: "testing".to_owned(),
        price_cents: 0,
        title: title.to_owned(),
        description: description.to_owned(),
        long_description: String::new(),
        author: "Ada".to_owned(),
        popularity: 0,
    }
}

fn index_of(docs: &[SearchableListing]) -> SearchIndex {
    let index = SearchIndex::create(None).expect("index");
    let mut update = index.update().expect("writer");
    for d in docs {
        update.upsert(d).expect("upsert");
    }
    update.commit().expect("commit");
    index
}

fn search(index: &SearchIndex, query: &str) -> Ranked {
    let terms = ap_domain::search::terms(query);
    named(index.search(&terms, &CatalogFilter::default(), 100).expect("search"))
}

#[test]
fn a_title_match_outranks_a_description_match() {
    let index = index_of(&[
        doc("d", "Lint helper", "Formats kubernetes manifests"),
        doc("t", "Kubernetes manifests", "Formats files"),
    ]);
    assert_eq!(search(&index, "kubernetes").ids, ["t", "d"]);
}

#[test]
fn the_last_word_matches_as_a_prefix_and_long_words_forgive_one_typo() {
    let index = index_of(&[doc("r", "Code review", "Reads diffs"), doc("o", "Other", "Unrelated")]);
    assert_eq!(search(&index, "revie").ids, ["r"]);
    assert_eq!(search(&index, "code revie").ids, ["r"]);
    assert_eq!(search(&index, "reveiw").ids, ["r"]);
    assert_eq!(search(&index, "reviwe code").ids, ["r"]);
    // A short word gets no typo, and a prefix only when it is the last word.
    assert!(search(&index, "cdoe").ids.is_empty());
    assert!(search(&index, "revi code").ids.is_empty());
    assert_eq!(search(&index, "code revi").ids, ["r"]);
}

#[test]
fn a_prefix_matches_alike_whether_it_stands_for_few_words_or_many() {
    // 20 words share `tool` (looked up through the automaton); 3 share `kit` (word by
    // word); both ways find the same, title matches first.
    let mut docs: Vec<SearchableListing> = (0..20u8)
        .map(|i| {
            let name = format!("t{i}");
            doc(&name, &format!("Tool{} helper", (b'a' + i) as char), "x")
        })
        .collect();
    docs.extend([
        doc("k1", "Kit", "x"),
        doc("k2", "Kite", "x"),
        doc("k3", "Helper", "a kitten kit"),
        doc("n", "Nothing", "x"),
    ]);
    let index = index_of(&docs);
    assert_eq!(search(&index, "too").total, 20);
    assert_eq!(search(&index, "helper too").total, 20);
    let kits = search(&index, "ki");
    assert_eq!(kits.total, 3);
    assert_eq!(kits.ids.last().map(String::as_str), Some("k3"), "a description match last");
    assert_eq!(search(&index, "helper ki").ids, ["k3"]);
    assert!(search(&index, "zz").ids.is_empty());
}

#[test]
fn a_word_spelled_right_is_not_second_guessed() {
    let index = index_of(&[doc("w", "Writer", "x"), doc("t", "Writes", "x")]);
    assert_eq!(search(&index, "writer tool").ids, Vec::<String>::new(), "every word is required");
    assert_eq!(search(&index, "writer x").ids, ["w"], "writes is one typo away, but writer exists");
    assert_eq!(search(&index, "wirter x").ids, ["w"], "an unknown word gets its neighbours");
}

#[test]
fn an_exact_word_outranks_a_guessed_one() {
    let index =
        index_of(&[doc("typo", "Reviews", "Guessed from review"), doc("exact", "Review", "x")]);
    assert_eq!(search(&index, "review").ids[0], "exact");
}

#[test]
fn ties_go_to_the_more_popular_listing() {
    let mut low = doc("low", "Deploy", "x");
    low.popularity = 1;
    let mut high = doc("high", "Deploy", "x");
    high.popularity = 50;
    let index = index_of(&[low, high]);
    assert_eq!(search(&index, "deploy").ids, ["high", "low"]);
}

#[test]
fn ties_go_to_the_more_popular_listing_whichever_segment_holds_it() {
    let mut low = doc("low", "Deploy", "x");
    low.popularity = 1;
    let index = index_of(&[low]);
    let mut high = doc("high", "Deploy", "x");
    high.popularity = 50;
    let mut update = index.update().expect("writer");
    update.upsert(&high).expect("upsert");
    update.commit().expect("commit");
    assert_eq!(search(&index, "deploy").ids, ["high", "low"]);
    assert_eq!(search(&index, "deploy x").ids, ["high", "low"]);
}

#[test]
fn several_words_and_filters_rank_as_one_word_alone_does() {
    let index = index_of(&[
        doc("d", "Lint helper", "Formats kubernetes manifests"),
        doc("t", "Kubernetes manifests", "Formats files"),
        doc("n", "Kubernetes", "Nothing else"),
    ]);
    let alone = search(&index, "kubernetes");
    assert_eq!(alone.ids, ["n", "t", "d"]);
    // Every listing is a skill: the filter excludes nothing and changes no score.
    let skills = CatalogFilter { listing_type: Some(ListingType::Skill), ..Default::default() };
    let terms = vec!["kubernetes".to_owned()];
    assert_eq!(named(index.search(&terms, &skills, 10).expect("search")), alone);
    assert_eq!(search(&index, "kubernetes formats").ids, ["t", "d"]);
    assert_eq!(search(&index, "kubernetes man").ids, ["t", "d"], "the title's prefix first");
    assert_eq!(search(&index, "kubernetes man").total, 2);
}

#[test]
fn filters_restrict_and_total_counts_every_match() {
    let mut docs: Vec<SearchableListing> =
        (0..30).map(|i| doc(&format!("s{i:02}"), "Deploy tool", "Ships code")).collect();
    docs[0].listing_type = ListingType::Agent;
    docs[1].price_cents = 500;
    docs[2].category = "devops".to_owned();
    let index = index_of(&docs);
    let terms = vec!["deploy".to_owned()];
    let all = named(index.search(&terms, &CatalogFilter::default(), 10).expect("search"));
    assert_eq!((all.ids.len(), all.total), (10, 30));
    let agents = CatalogFilter { listing_type: Some(ListingType::Agent), ..Default::default() };
    assert_eq!(named(index.search(&terms, &agents, 10).expect("search")).ids, ["s00"]);
    let paid = CatalogFilter { price: Some(PriceFilter::Paid), ..Default::default() };
    assert_eq!(named(index.search(&terms, &paid, 10).expect("search")).ids, ["s01"]);
    let free = CatalogFilter { price: Some(PriceFilter::Free), ..Default::default() };
    assert_eq!(named(index.search(&terms, &free, 10).expect("search")).total, 29);
    let devops = CatalogFilter { category: Some("devops".to_owned()), ..Default::default() };
    assert_eq!(named(index.search(&terms, &devops, 10).expect("search")).ids, ["s02"]);
}

#[test]
fn upserts_replace_and_removals_remove() {
    let index = index_of(&[doc("a", "Alpha", "x"), doc("b", "Beta", "x")]);
    let mut update = index.update().expect("writer");
    update.upsert(&doc("a", "Gamma", "x")).expect("upsert");
    update.remove(&uid("b"));
    update.commit().expect("commit");
    assert_eq!(index.len(), 1);
    assert!(search(&index, "alpha").ids.is_empty());
    assert_eq!(search(&index, "gamma").ids, ["a"]);
    let mut update = index.update().expect("writer");
    update.clear().expect("clear");
    update.commit_compacted().expect("commit");
    assert!(index.is_empty());
}

#[test]
fn an_update_dropped_without_a_commit_changes_nothing() {
    let index = index_of(&[doc("a", "Alpha", "x")]);
    {
        let mut update = index.update().expect("writer");
        update.clear().expect("clear");
        update.upsert(&doc("b", "Beta", "x")).expect("upsert");
    }
    index.update().expect("writer").commit().expect("commit");
    assert_eq!(search(&index, "alpha").ids, ["a"]);
    assert!(search(&index, "beta").ids.is_empty());
}

#[test]
fn other_scripts_accents_and_odd_words_are_words() {
    let index = index_of(&[doc("j", "日本語 ツール", "Café crème")]);
    assert_eq!(search(&index, "日本語").ids, ["j"]);
    assert_eq!(search(&index, "cafe").ids, ["j"]);
    assert_eq!(search(&index, "CAFÉ").ids, ["j"]);
    assert!(search(&index, &"x".repeat(200)).ids.is_empty());
    assert!(search(&index, "").ids.is_empty());
}

#[test]
fn a_directory_index_starts_empty_whatever_was_there() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("index");
    {
        let index = SearchIndex::create(Some(&path)).expect("index");
        let mut update = index.update().expect("writer");
        update.upsert(&doc("a", "Alpha", "x")).expect("upsert");
        update.commit().expect("commit");
        assert_eq!(index.len(), 1);
    }
    std::fs::write(path.join("stray"), b"junk").expect("write");
    let index = SearchIndex::create(Some(&path)).expect("reopened");
    assert!(index.is_empty());
}

#[test]
fn an_id_that_is_not_a_uuid_is_refused() {
    let index = SearchIndex::create(None).expect("index");
    let mut update = index.update().expect("writer");
    let mut odd = doc("a", "Alpha", "x");
    odd.id = "not-a-uuid".to_owned();
    assert!(matches!(update.upsert(&odd), Err(SearchError::Id(_))));
}

#[test]
fn a_directory_in_use_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("index");
    let first = SearchIndex::create(Some(&path)).expect("index");
    assert!(matches!(SearchIndex::create(Some(&path)), Err(SearchError::InUse(_))));
    drop(first);
    SearchIndex::create(Some(&path)).expect("free again");
}
