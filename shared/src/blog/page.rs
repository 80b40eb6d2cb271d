//! `GET /blog/{slug}`: a published post as a complete HTML document, so a shared link shows its title, description
//! and Open Graph image in chat apps and social networks, which read the page's `<meta>` tags and run no script.
//!
//! The templates (`shared/templates/blog/`) are compiled into the binary by askama, which escapes every value it
//! prints; only the post's content is printed as it is, because it was sanitised when it was written. The rendered
//! page is cached in the blog's cache hash, so every admin write and every new Open Graph image replaces it.

use askama::Template;
use http::StatusCode;

use super::{BLOG_KEY, BLOG_TTL, Post, published_post, site_name};
use platform::Platform;
use platform::http::{ApiError, ApiRequest, ApiResponse};

/// The picture `og:image` names.
struct ShareImage<'a> {
    url: &'a str,
    alt: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "blog/post_page.html")]
struct PostPage<'a> {
    post: &'a Post,
    description: &'a str,
    url: &'a str,
    site_name: &'a str,
    image: Option<ShareImage<'a>>,
    main_image: Option<&'a super::PostImage>,
    published: Option<String>,
    published_day: String,
}

#[derive(Template)]
#[template(path = "blog/not_found.html")]
struct NotFoundPage<'a> {
    site_name: &'a str,
}

/// The post's page: `og:image` is the generated Open Graph image, else the post's main image, else absent.
pub fn render(post: &Post, public_base_url: &str, site_name: &str) -> Result<String, askama::Error> {
    let url = format!("{}/blog/{}", public_base_url.trim_end_matches('/'), post.slug);
    let main_image = post.main_image();
    let image = match (&post.og_image_url, main_image) {
        (Some(url), _) => Some(ShareImage { url, alt: None }),
        (None, Some(main)) => {
            Some(ShareImage { url: &main.url, alt: Some(main.alt.as_str()).filter(|a| !a.is_empty()) })
        }
        (None, None) => None,
    };
    PostPage {
        post,
        description: post.description(),
        url: &url,
        site_name,
        image,
        main_image,
        published: post.published_at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        published_day: post.published_at.map(|at| at.format("%-d %B %Y").to_string()).unwrap_or_default(),
    }
    .render()
}

/// `GET /blog/{slug}`: the page, or a small HTML 404 page for a draft or an unknown slug.
pub async fn post_page(platform: &Platform, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let slug = request.path_params.get("slug").map(String::as_str).unwrap_or_default();
    let site = site_name(platform);
    let page = platform
        .cache
        .hash_get_or_load_found(BLOG_KEY, &format!("page:{slug}"), BLOG_TTL, || async {
            let Some(post) = published_post(platform, slug).await? else { return Ok(None) };
            render(&post, &platform.config.public_base_url, &site).map(Some).map_err(ApiError::internal)
        })
        .await?;
    match page {
        Some(page) => Ok(ApiResponse::html(StatusCode::OK, page)),
        None => {
            let page = NotFoundPage { site_name: &site }.render().map_err(ApiError::internal)?;
            Ok(ApiResponse::html(StatusCode::NOT_FOUND, page))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blog::{Category, PostImage};

    fn post() -> Post {
        Post {
            id: 1,
            slug: "escapes".into(),
            title: r#"Fish & <Chips> "quoted""#.into(),
            excerpt: "An excerpt".into(),
            content_html: "<p>Body <b>bold</b></p>".into(),
            category: Category { id: 1, slug: "food".into(), name: "Food & Drink".into() },
            published_at: Some(chrono::Utc::now()),
            featured: false,
            meta_description: String::new(),
            og_image_url: None,
            images: vec![PostImage {
                upload_id: uuid::Uuid::nil(),
                url: "https://cdn.example/media/post_image/a.jpg".into(),
                main: true,
                alt: "A plate".into(),
                width: Some(800),
                height: None,
            }],
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn every_value_is_escaped_and_the_content_is_printed_as_stored() {
        let html = render(&post(), "https://quiz.example.com/", "quiz.example.com").unwrap();
        assert!(
            html.contains("Fish &#38; &#60;Chips&#62; &#34;quoted&#34;")
                || html.contains("Fish &amp; &lt;Chips&gt; &quot;quoted&quot;"),
            "{html}"
        );
        assert!(!html.contains("<Chips>"), "{html}");
        assert!(html.contains("<p>Body <b>bold</b></p>"), "{html}");
        assert!(html.contains(r#"<meta property="og:url" content="https://quiz.example.com/blog/escapes">"#), "{html}");
        assert!(html.contains(r#"<meta name="description" content="An excerpt">"#), "{html}");
    }

    #[test]
    fn og_image_is_the_generated_image_else_the_main_image() {
        let mut post = post();
        let html = render(&post, "https://quiz.example.com", "quiz.example.com").unwrap();
        assert!(
            html.contains(r#"<meta property="og:image" content="https://cdn.example/media/post_image/a.jpg">"#),
            "{html}"
        );
        post.og_image_url = Some("https://cdn.example/og/abc.png".into());
        let html = render(&post, "https://quiz.example.com", "quiz.example.com").unwrap();
        assert!(html.contains(r#"<meta property="og:image" content="https://cdn.example/og/abc.png">"#), "{html}");
        post.og_image_url = None;
        post.images.clear();
        assert!(!render(&post, "https://quiz.example.com", "quiz.example.com").unwrap().contains("og:image"));
    }
}
