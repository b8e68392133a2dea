//! Following `NextToken` through the pages of a List/Describe call.
//!
//! Written by hand rather than with the SDK's paginators so one function serves every API, and
//! so it can be unit-tested: moto ignores `MaxResults` and always answers in one page.

use std::future::Future;

use cairn_provider::provider::{ErrorKind, ProviderError};

/// More pages than this means the API keeps handing back tokens: stop rather than loop forever.
const MAX_PAGES: usize = 10_000;

/// Calls `fetch` with `None`, then with each returned token, until a page comes back without
/// one (or with an empty one, which some APIs send on the last page).
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ProviderError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), ProviderError>>,
{
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (items, next) = fetch(token.take()).await?;
        all.extend(items);
        match next.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(all),
        }
    }
    Err(ProviderError::new(
        ErrorKind::Other,
        format!("gave up after {MAX_PAGES} pages: the API kept returning a NextToken"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Page = std::future::Ready<Result<(Vec<u32>, Option<String>), ProviderError>>;

    /// Serves `pages` like an API would: page i's token is "p{i+1}".
    fn serve(pages: Vec<Vec<u32>>) -> impl FnMut(Option<String>) -> Page {
        move |token| {
            let index = match token.as_deref() {
                None => 0,
                Some(t) => t[1..].parse::<usize>().unwrap(),
            };
            let next = (index + 1 < pages.len()).then(|| format!("p{}", index + 1));
            std::future::ready(Ok((pages[index].clone(), next)))
        }
    }

    #[tokio::test]
    async fn every_page_is_fetched_in_order_until_the_token_runs_out() {
        let all = all_pages(serve(vec![vec![1, 2], vec![3], vec![], vec![4, 5]]))
            .await
            .unwrap();
        assert_eq!(all, [1, 2, 3, 4, 5]);
    }

    #[tokio::test]
    async fn a_single_page_without_token_is_one_call() {
        let mut calls = 0;
        let all = all_pages(|token: Option<String>| {
            calls += 1;
            assert!(token.is_none());
            std::future::ready(Ok((vec!["a"], None)))
        })
        .await
        .unwrap();
        assert_eq!((all, calls), (vec!["a"], 1));
    }

    #[tokio::test]
    async fn an_empty_token_ends_the_listing() {
        let mut calls = 0;
        let all = all_pages(|_| {
            calls += 1;
            std::future::ready(Ok((vec![calls], Some(String::new()))))
        })
        .await
        .unwrap();
        assert_eq!(all, [1]);
    }

    #[tokio::test]
    async fn an_error_on_a_later_page_is_returned() {
        let result = all_pages(|token: Option<String>| {
            std::future::ready(match token {
                None => Ok((vec![1], Some("next".to_string()))),
                Some(_) => Err(ProviderError::new(ErrorKind::Throttled, "Throttling")),
            })
        })
        .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::Throttled);
    }
}
