package worldmap

import "math"

// The map uses the Natural Earth I projection (Šavrič, Jenny, Patterson,
// Petrovič and Hurni, 2011): pseudocylindrical, made for small-scale world
// maps, with less distortion of the high latitudes than equirectangular
// and flat poles drawn as lines. Being pseudocylindrical, x grows with the
// longitude along every parallel, so cutting rings at ±180° in longitude
// and latitude (antimeridian.go) is enough to keep shapes on their side.

// naturalEarth projects a longitude and latitude in degrees to the unit
// plane: x in about [-2.74, 2.74], y in about [-1.42, 1.42], north up.
func naturalEarth(lon, lat float64) (x, y float64) {
	l := lon * math.Pi / 180
	p := lat * math.Pi / 180
	p2 := p * p
	p4 := p2 * p2
	p6 := p4 * p2
	p8 := p4 * p4
	p10 := p8 * p2
	p12 := p6 * p6
	x = l * (0.870700 - 0.131979*p2 - 0.013791*p4 + 0.003971*p10 - 0.001529*p12)
	y = p * (1.007226 + 0.015085*p2 - 0.044475*p6 + 0.028874*p8 - 0.005916*p10)
	return x, y
}
