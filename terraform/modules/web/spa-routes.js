// CloudFront Function (viewer request, default S3 behaviour only).
// The web app routes on the client: a request for a path whose last segment has no
// file extension (/, /c/abc123, /listen) gets the app shell, /index.html. Asset
// requests (/assets/index-1a2b.js, /favicon.svg) pass through unchanged.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var lastSegment = uri.substring(uri.lastIndexOf("/") + 1);
  if (lastSegment.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
