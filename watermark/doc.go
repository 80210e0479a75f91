// Package watermark owns event time: the Time type shared by every layer, watermark generators
// (max event time seen minus a declared delay) and the tracker that takes the minimum across inputs.
//
// It is the lowest package of the engine and imports nothing of ours.
package watermark
