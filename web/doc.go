// Package web holds the browser console that `streamsql serve --http` serves at /: a Vite
// project (TypeScript and uPlot) in this directory, built into dist/ by `make web`. The build
// output is committed and embedded here, so `go build` needs no Node.js; server.HTTPConfig.Assets
// takes Dist.
package web
