// Package geoip is the GeoIP enricher: the country, city, location and
// autonomous system of an event's source and destination addresses, read
// from MaxMind DB (.mmdb) files of any of the common layouts — MaxMind's
// GeoIP2/GeoLite2 Country, City and ASN (`country.iso_code`,
// `city.names.en`, `location`, `autonomous_system_number`) and
// ip-location-db's (`country_code`, flat `city`, `latitude`). Several
// databases are used at once (a country one and an ASN one), each can be
// replaced on disk and is reloaded without a restart. A country database
// (ip-location-db's geo-whois-asn-country) is embedded as the default.
package geoip

import (
	_ "embed"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

//go:embed data/geo-whois-asn-country.mmdb
var embedded []byte

// Embedded names the default database, as Info and the API show it.
const Embedded = "embedded:geo-whois-asn-country@2.3.2026061719"

// Attribution of the embedded database's data, which its licence (CC BY
// 4.0, for the RIR statistics) asks to show.
const Attribution = "IP geolocation: ip-location-db geo-whois-asn-country (CC0), from RIR/NRO statistics by nro.net, licensed CC BY 4.0"

// Database is one opened .mmdb file.
type Database struct {
	r    *maxminddb.Reader
	info Info
}

// Info describes a database for the API and logs.
type Info struct {
	Path         string    `json:"path"`
	Type         string    `json:"type"` // the file's database_type
	Built        time.Time `json:"built"`
	Description  string    `json:"description,omitempty"`
	IPVersion    int       `json:"ip_version"`
	Attribution  string    `json:"attribution,omitempty"`
	LoadedAt     time.Time `json:"loaded_at"`
	size         int64
	modTime      time.Time
	generation   uint64
	embeddedCopy bool
}

// Open reads the database at path whole into memory (not a memory map, so
// that a file replaced on disk never changes a database in use, and the
// old one is freed by the collector once no lookup holds it).
func Open(path string) (*Database, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	db, err := fromBytes(b, path)
	if err != nil {
		return nil, err
	}
	db.info.size, db.info.modTime = st.Size(), st.ModTime()
	return db, nil
}

// Default returns the embedded country database.
func Default() (*Database, error) {
	db, err := fromBytes(embedded, Embedded)
	if err != nil {
		return nil, err
	}
	db.info.Attribution = Attribution
	db.info.embeddedCopy = true
	return db, nil
}

func fromBytes(b []byte, name string) (*Database, error) {
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", name, err)
	}
	m := r.Metadata
	info := Info{
		Path: name, Type: m.DatabaseType, IPVersion: int(m.IPVersion), LoadedAt: time.Now().UTC(),
		Built: m.BuildTime().UTC(), Description: m.Description["en"],
	}
	return &Database{r: r, info: info}, nil
}

// Info describes the database.
func (db *Database) Info() Info { return db.info }

// Record is what a database knows of an address; zero parts are unknown.
type Record struct {
	Country     string // ISO 3166-1 alpha-2
	CountryName string
	City        string
	Lat, Lon    float64
	HasLocation bool
	ASN         uint32
	ASOrg       string
}

// Lookup returns the record of a; found is false when the database has
// none. A malformed record is an error naming the address.
func (db *Database) Lookup(a netip.Addr) (Record, bool, error) {
	var rec record
	res := db.r.Lookup(a.Unmap())
	if err := res.Err(); err != nil {
		return Record{}, false, fmt.Errorf("geoip %s: lookup %s: %w", db.info.Path, a, err)
	}
	if !res.Found() {
		return Record{}, false, nil
	}
	if err := res.Decode(&rec); err != nil {
		return Record{}, false, fmt.Errorf("geoip %s: record of %s: %w", db.info.Path, a, err)
	}
	return rec.Record, true, nil
}

// record decodes the layouts vigil reads, whatever else a record holds:
// reading the keys it knows and skipping the others, it neither depends on
// one vendor's schema nor allocates maps for names it does not use.
type record struct{ Record }

// UnmarshalMaxMindDB implements mmdbdata.Unmarshaler.
func (r *record) UnmarshalMaxMindDB(d *mmdbdata.Decoder) error {
	var registered string
	var registeredName string
	return eachKey(d, func(k string) error {
		switch k {
		case "country_code": // ip-location-db
			return readString(d, &r.Country)
		case "country":
			return eachKey(d, func(k string) error {
				switch k {
				case "iso_code":
					return readString(d, &r.Country)
				case "names":
					return englishName(d, &r.CountryName)
				}
				return d.SkipValue()
			})
		case "registered_country":
			// Used only when the record has no country (an anycast or
			// satellite network).
			err := eachKey(d, func(k string) error {
				switch k {
				case "iso_code":
					return readString(d, &registered)
				case "names":
					return englishName(d, &registeredName)
				}
				return d.SkipValue()
			})
			if r.Country == "" {
				r.Country, r.CountryName = registered, registeredName
			}
			return err
		case "city":
			k, err := d.PeekKind()
			if err != nil {
				return err
			}
			if k == mmdbdata.KindString { // ip-location-db's flat layout
				return readString(d, &r.City)
			}
			return eachKey(d, func(k string) error {
				if k == "names" {
					return englishName(d, &r.City)
				}
				return d.SkipValue()
			})
		case "location":
			return eachKey(d, func(k string) error {
				switch k {
				case "latitude":
					r.HasLocation = true
					return readFloat(d, &r.Lat)
				case "longitude":
					return readFloat(d, &r.Lon)
				}
				return d.SkipValue()
			})
		case "latitude": // ip-location-db's city layout
			r.HasLocation = true
			return readFloat(d, &r.Lat)
		case "longitude":
			return readFloat(d, &r.Lon)
		case "autonomous_system_number":
			return readUint(d, &r.ASN)
		case "autonomous_system_organization":
			return readString(d, &r.ASOrg)
		}
		return d.SkipValue()
	})
}

func eachKey(d *mmdbdata.Decoder, fn func(string) error) error {
	k, err := d.PeekKind()
	if err != nil {
		return err
	}
	if k != mmdbdata.KindMap {
		return d.SkipValue() // not the layout vigil knows: ignored, not an error
	}
	it, _, err := d.ReadMap()
	if err != nil {
		return err
	}
	for key, err := range it {
		if err != nil {
			return err
		}
		if err := fn(string(key)); err != nil {
			return err
		}
	}
	return nil
}

func englishName(d *mmdbdata.Decoder, dst *string) error {
	return eachKey(d, func(k string) error {
		if k == "en" {
			return readString(d, dst)
		}
		return d.SkipValue()
	})
}

func readString(d *mmdbdata.Decoder, dst *string) error {
	k, err := d.PeekKind()
	if err != nil {
		return err
	}
	if k != mmdbdata.KindString {
		return d.SkipValue()
	}
	*dst, err = d.ReadString()
	return err
}

func readFloat(d *mmdbdata.Decoder, dst *float64) error {
	k, err := d.PeekKind()
	if err != nil {
		return err
	}
	switch k {
	case mmdbdata.KindFloat64:
		*dst, err = d.ReadFloat64()
	case mmdbdata.KindFloat32:
		var f float32
		f, err = d.ReadFloat32()
		*dst = float64(f)
	case mmdbdata.KindString: // some generated databases store text
		var s string
		if s, err = d.ReadString(); err == nil {
			*dst, err = strconv.ParseFloat(s, 64)
		}
	default:
		return d.SkipValue()
	}
	return err
}

func readUint(d *mmdbdata.Decoder, dst *uint32) error {
	k, err := d.PeekKind()
	if err != nil {
		return err
	}
	switch k {
	case mmdbdata.KindUint16:
		var v uint16
		v, err = d.ReadUint16()
		*dst = uint32(v)
	case mmdbdata.KindUint32:
		*dst, err = d.ReadUint32()
	case mmdbdata.KindUint64:
		var v uint64
		v, err = d.ReadUint64()
		*dst = uint32(v)
	case mmdbdata.KindInt32:
		var v int32
		v, err = d.ReadInt32()
		*dst = uint32(v)
	case mmdbdata.KindString:
		var s string
		if s, err = d.ReadString(); err == nil {
			var n uint64
			n, err = strconv.ParseUint(s, 10, 32)
			*dst = uint32(n)
		}
	default:
		return d.SkipValue()
	}
	return err
}
