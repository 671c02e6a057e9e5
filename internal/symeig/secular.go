package symeig

import "math"

// Machine constants as LAPACK's dlamch reports them for float64.
const (
	eps    = 0x1p-53   // relative machine precision (rounding to nearest)
	safmin = 0x1p-1022 // smallest normalised number

	// dlaed6's scaling thresholds: 2^-340 is the power of two nearest
	// safmin^(1/3), and 2^-680 its square.
	small1 = 0x1p-340
	sminv1 = 0x1p340
	small2 = 0x1p-680
	sminv2 = 0x1p680

	maxitLaed4 = 30
	maxitLaed6 = 40
)

// laed4 finds the i-th (0-based) eigenvalue of diag(d) + rho z zᵀ, for
// d strictly increasing, rho > 0 and ‖z‖ = 1, as LAPACK's dlaed4 does
// (Ren-Cang Li's rational interpolation, origin at the nearer pole). On
// return delta[j] = d[j] - lambda, computed without cancellation, except
// for n ≤ 2, where delta holds the eigenvector itself (n == 1: delta[0] = 1).
// ok is false when the iteration did not converge.
func laed4(n, i int, d, z, delta []float64, rho float64) (dlam float64, ok bool) {
	d, z, delta = d[:n], z[:n], delta[:n]
	if n == 1 {
		delta[0] = 1
		return d[0] + rho*z[0]*z[0], true
	}
	if n == 2 {
		return laed5(i, d, z, delta, rho), true
	}
	rhoinv := 1 / rho

	if i == n-1 {
		// The largest eigenvalue: d[n-1] < lambda < d[n-1] + rho.
		ii := n - 2
		midpt := rho / 2
		for j := range delta {
			delta[j] = (d[j] - d[i]) - midpt
		}
		psi := 0.0
		for j := 0; j < n-2; j++ {
			psi += z[j] * z[j] / delta[j]
		}
		c := rhoinv + psi
		w := c + z[ii]*z[ii]/delta[ii] + z[n-1]*z[n-1]/delta[n-1]
		var tau, dltlb, dltub float64
		if w <= 0 {
			temp := z[n-2]*z[n-2]/(d[n-1]-d[n-2]+rho) + z[n-1]*z[n-1]/rho
			if c <= temp {
				tau = rho
			} else {
				del := d[n-1] - d[n-2]
				a := -c*del + z[n-2]*z[n-2] + z[n-1]*z[n-1]
				b := z[n-1] * z[n-1] * del
				if a < 0 {
					tau = 2 * b / (math.Sqrt(a*a+4*b*c) - a)
				} else {
					tau = (a + math.Sqrt(a*a+4*b*c)) / (2 * c)
				}
			}
			// d[n-1] + rho/2 <= lambda < d[n-1] + tau <= d[n-1] + rho.
			dltlb = midpt
			dltub = rho
		} else {
			del := d[n-1] - d[n-2]
			a := -c*del + z[n-2]*z[n-2] + z[n-1]*z[n-1]
			b := z[n-1] * z[n-1] * del
			if a < 0 {
				tau = 2 * b / (math.Sqrt(a*a+4*b*c) - a)
			} else {
				tau = (a + math.Sqrt(a*a+4*b*c)) / (2 * c)
			}
			// d[n-1] < d[n-1] + tau < lambda < d[n-1] + rho/2.
			dltlb = 0
			dltub = midpt
		}
		for j := range delta {
			delta[j] = (d[j] - d[i]) - tau
		}

		// eval returns w, the derivatives and the error bound at tau.
		eval := func() (w, dpsi, dphi, erretm float64) {
			psi := 0.0
			for j := 0; j <= ii; j++ {
				temp := z[j] / delta[j]
				psi += z[j] * temp
				dpsi += temp * temp
				erretm += psi
			}
			erretm = math.Abs(erretm)
			temp := z[n-1] / delta[n-1]
			phi := z[n-1] * temp
			dphi = temp * temp
			erretm = 8*(-phi-psi) + erretm - phi + rhoinv + math.Abs(tau)*(dpsi+dphi)
			w = rhoinv + phi + psi
			return
		}
		w, dpsi, dphi, erretm := eval()
		if math.Abs(w) <= eps*erretm {
			return d[i] + tau, true
		}
		if w <= 0 {
			dltlb = math.Max(dltlb, tau)
		} else {
			dltub = math.Min(dltub, tau)
		}

		// First step.
		c = w - delta[n-2]*dpsi - delta[n-1]*dphi
		a := (delta[n-2]+delta[n-1])*w - delta[n-2]*delta[n-1]*(dpsi+dphi)
		b := delta[n-2] * delta[n-1] * w
		if c < 0 {
			c = math.Abs(c)
		}
		var eta float64
		switch {
		case c == 0:
			eta = -w / (dpsi + dphi)
		case a >= 0:
			eta = (a + math.Sqrt(math.Abs(a*a-4*b*c))) / (2 * c)
		default:
			eta = 2 * b / (a - math.Sqrt(math.Abs(a*a-4*b*c)))
		}
		// eta should have the sign opposite to w; fall back to Newton.
		if w*eta > 0 {
			eta = -w / (dpsi + dphi)
		}
		if temp := tau + eta; temp > dltub || temp < dltlb {
			eta1 := -w / (dpsi + dphi)
			temp = tau + eta1
			var eta2 float64
			if w < 0 {
				eta2 = (dltub - tau) / 2
			} else {
				eta2 = (dltlb - tau) / 2
			}
			if dltlb <= temp && temp <= dltub {
				eta = math.Copysign(1, eta1) * math.Sqrt(math.Abs(eta1)) * math.Sqrt(math.Abs(eta2))
			} else {
				eta = eta2
			}
		}
		for j := range delta {
			delta[j] -= eta
		}
		tau += eta
		w, dpsi, dphi, erretm = eval()

		for iter := 2; iter < maxitLaed4; iter++ {
			if math.Abs(w) <= eps*erretm {
				return d[i] + tau, true
			}
			if w <= 0 {
				dltlb = math.Max(dltlb, tau)
			} else {
				dltub = math.Min(dltub, tau)
			}
			c := w - delta[n-2]*dpsi - delta[n-1]*dphi
			a := (delta[n-2]+delta[n-1])*w - delta[n-2]*delta[n-1]*(dpsi+dphi)
			b := delta[n-2] * delta[n-1] * w
			var eta float64
			if a >= 0 {
				eta = (a + math.Sqrt(math.Abs(a*a-4*b*c))) / (2 * c)
			} else {
				eta = 2 * b / (a - math.Sqrt(math.Abs(a*a-4*b*c)))
			}
			if w*eta > 0 {
				eta = -w / (dpsi + dphi)
			}
			if temp := tau + eta; temp > dltub || temp < dltlb {
				if w < 0 {
					eta = (dltub - tau) / 2
				} else {
					eta = (dltlb - tau) / 2
				}
			}
			for j := range delta {
				delta[j] -= eta
			}
			tau += eta
			w, dpsi, dphi, erretm = eval()
		}
		return d[i] + tau, false
	}

	// The case i < n-1: d[i] < lambda < d[i+1].
	ip1 := i + 1
	del := d[ip1] - d[i]
	midpt := del / 2
	for j := range delta {
		delta[j] = (d[j] - d[i]) - midpt
	}
	psi := 0.0
	for j := 0; j < i; j++ {
		psi += z[j] * z[j] / delta[j]
	}
	phi := 0.0
	for j := n - 1; j > ip1; j-- {
		phi += z[j] * z[j] / delta[j]
	}
	c := rhoinv + psi + phi
	w := c + z[i]*z[i]/delta[i] + z[ip1]*z[ip1]/delta[ip1]

	var orgati bool
	var tau, dltlb, dltub float64
	if w > 0 {
		// d[i] < lambda < (d[i]+d[i+1])/2: origin at d[i].
		orgati = true
		a := c*del + z[i]*z[i] + z[ip1]*z[ip1]
		b := z[i] * z[i] * del
		if a > 0 {
			tau = 2 * b / (a + math.Sqrt(math.Abs(a*a-4*b*c)))
		} else {
			tau = (a - math.Sqrt(math.Abs(a*a-4*b*c))) / (2 * c)
		}
		dltlb = 0
		dltub = midpt
	} else {
		// (d[i]+d[i+1])/2 <= lambda < d[i+1]: origin at d[i+1].
		orgati = false
		a := c*del - z[i]*z[i] - z[ip1]*z[ip1]
		b := z[ip1] * z[ip1] * del
		if a < 0 {
			tau = 2 * b / (a - math.Sqrt(math.Abs(a*a+4*b*c)))
		} else {
			tau = -(a + math.Sqrt(math.Abs(a*a+4*b*c))) / (2 * c)
		}
		dltlb = -midpt
		dltub = 0
	}
	org := i
	if !orgati {
		org = ip1
	}
	for j := range delta {
		delta[j] = (d[j] - d[org]) - tau
	}
	ii := org
	iim1 := ii - 1
	iip1 := ii + 1

	// eval returns psi, dpsi, phi, dphi and the partial error bound.
	eval := func() (psi, dpsi, phi, dphi, erretm float64) {
		for j := 0; j < ii; j++ {
			temp := z[j] / delta[j]
			psi += z[j] * temp
			dpsi += temp * temp
			erretm += psi
		}
		erretm = math.Abs(erretm)
		for j := n - 1; j > ii; j-- {
			temp := z[j] / delta[j]
			phi += z[j] * temp
			dphi += temp * temp
			erretm += phi
		}
		return
	}
	psi, dpsi, phi, dphi, erretm := eval()
	w = rhoinv + phi + psi

	// w is now the secular function with its ii-th term removed.
	swtch3 := false
	if orgati {
		swtch3 = w < 0
	} else {
		swtch3 = w > 0
	}
	if ii == 0 || ii == n-1 {
		swtch3 = false
	}
	temp := z[ii] / delta[ii]
	dw := dpsi + dphi + temp*temp
	temp = z[ii] * temp
	w += temp
	erretm = 8*(phi-psi) + erretm + 2*rhoinv + 3*math.Abs(temp) + math.Abs(tau)*dw

	done := func() float64 { return d[org] + tau }
	if math.Abs(w) <= eps*erretm {
		return done(), true
	}
	if w <= 0 {
		dltlb = math.Max(dltlb, tau)
	} else {
		dltub = math.Min(dltub, tau)
	}

	// First step.
	niter := 2
	var eta float64
	var zz [3]float64
	if !swtch3 {
		if orgati {
			t := z[i] / delta[i]
			c = w - delta[ip1]*dw - (d[i]-d[ip1])*t*t
		} else {
			t := z[ip1] / delta[ip1]
			c = w - delta[i]*dw - (d[ip1]-d[i])*t*t
		}
		a := (delta[i]+delta[ip1])*w - delta[i]*delta[ip1]*dw
		b := delta[i] * delta[ip1] * w
		switch {
		case c == 0:
			if a == 0 {
				if orgati {
					a = z[i]*z[i] + delta[ip1]*delta[ip1]*(dpsi+dphi)
				} else {
					a = z[ip1]*z[ip1] + delta[i]*delta[i]*(dpsi+dphi)
				}
			}
			eta = b / a
		case a <= 0:
			eta = (a - math.Sqrt(math.Abs(a*a-4*b*c))) / (2 * c)
		default:
			eta = 2 * b / (a + math.Sqrt(math.Abs(a*a-4*b*c)))
		}
	} else {
		// Interpolation using the three most relevant poles.
		temp := rhoinv + psi + phi
		if orgati {
			temp1 := z[iim1] / delta[iim1]
			temp1 *= temp1
			c = temp - delta[iip1]*(dpsi+dphi) - (d[iim1]-d[iip1])*temp1
			zz[0] = z[iim1] * z[iim1]
			zz[2] = delta[iip1] * delta[iip1] * ((dpsi - temp1) + dphi)
		} else {
			temp1 := z[iip1] / delta[iip1]
			temp1 *= temp1
			c = temp - delta[iim1]*(dpsi+dphi) - (d[iip1]-d[iim1])*temp1
			zz[0] = delta[iim1] * delta[iim1] * (dpsi + (dphi - temp1))
			zz[2] = z[iip1] * z[iip1]
		}
		zz[1] = z[ii] * z[ii]
		var ok bool
		eta, ok = laed6(niter, orgati, c, delta[iim1:iim1+3], zz[:], w)
		if !ok {
			return done(), false
		}
	}
	// eta should have the sign opposite to w; fall back to Newton.
	if w*eta >= 0 {
		eta = -w / dw
	}
	if t := tau + eta; t > dltub || t < dltlb {
		if w < 0 {
			eta = (dltub - tau) / 2
		} else {
			eta = (dltlb - tau) / 2
		}
	}
	prew := w
	for j := range delta {
		delta[j] -= eta
	}
	psi, dpsi, phi, dphi, erretm = eval()
	temp = z[ii] / delta[ii]
	dw = dpsi + dphi + temp*temp
	temp = z[ii] * temp
	w = rhoinv + phi + psi + temp
	erretm = 8*(phi-psi) + erretm + 2*rhoinv + 3*math.Abs(temp) + math.Abs(tau+eta)*dw
	swtch := false
	if orgati {
		swtch = -w > math.Abs(prew)/10
	} else {
		swtch = w > math.Abs(prew)/10
	}
	tau += eta

	for niter = 3; niter <= maxitLaed4; niter++ {
		if math.Abs(w) <= eps*erretm {
			return done(), true
		}
		if w <= 0 {
			dltlb = math.Max(dltlb, tau)
		} else {
			dltub = math.Min(dltub, tau)
		}
		if !swtch3 {
			if !swtch {
				if orgati {
					t := z[i] / delta[i]
					c = w - delta[ip1]*dw - (d[i]-d[ip1])*t*t
				} else {
					t := z[ip1] / delta[ip1]
					c = w - delta[i]*dw - (d[ip1]-d[i])*t*t
				}
			} else {
				t := z[ii] / delta[ii]
				if orgati {
					dpsi += t * t
				} else {
					dphi += t * t
				}
				c = w - delta[i]*dpsi - delta[ip1]*dphi
			}
			a := (delta[i]+delta[ip1])*w - delta[i]*delta[ip1]*dw
			b := delta[i] * delta[ip1] * w
			switch {
			case c == 0:
				if a == 0 {
					if !swtch {
						if orgati {
							a = z[i]*z[i] + delta[ip1]*delta[ip1]*(dpsi+dphi)
						} else {
							a = z[ip1]*z[ip1] + delta[i]*delta[i]*(dpsi+dphi)
						}
					} else {
						a = delta[i]*delta[i]*dpsi + delta[ip1]*delta[ip1]*dphi
					}
				}
				eta = b / a
			case a <= 0:
				eta = (a - math.Sqrt(math.Abs(a*a-4*b*c))) / (2 * c)
			default:
				eta = 2 * b / (a + math.Sqrt(math.Abs(a*a-4*b*c)))
			}
		} else {
			temp := rhoinv + psi + phi
			if swtch {
				c = temp - delta[iim1]*dpsi - delta[iip1]*dphi
				zz[0] = delta[iim1] * delta[iim1] * dpsi
				zz[2] = delta[iip1] * delta[iip1] * dphi
			} else if orgati {
				temp1 := z[iim1] / delta[iim1]
				temp1 *= temp1
				c = temp - delta[iip1]*(dpsi+dphi) - (d[iim1]-d[iip1])*temp1
				zz[0] = z[iim1] * z[iim1]
				zz[2] = delta[iip1] * delta[iip1] * ((dpsi - temp1) + dphi)
			} else {
				temp1 := z[iip1] / delta[iip1]
				temp1 *= temp1
				c = temp - delta[iim1]*(dpsi+dphi) - (d[iip1]-d[iim1])*temp1
				zz[0] = delta[iim1] * delta[iim1] * (dpsi + (dphi - temp1))
				zz[2] = z[iip1] * z[iip1]
			}
			var ok bool
			eta, ok = laed6(niter, orgati, c, delta[iim1:iim1+3], zz[:], w)
			if !ok {
				return done(), false
			}
		}
		if w*eta >= 0 {
			eta = -w / dw
		}
		if t := tau + eta; t > dltub || t < dltlb {
			eta1 := -w / dw
			t = tau + eta1
			var eta2 float64
			if w < 0 {
				eta2 = (dltub - tau) / 2
			} else {
				eta2 = (dltlb - tau) / 2
			}
			if dltlb <= t && t <= dltub {
				eta = math.Copysign(1, eta1) * math.Sqrt(math.Abs(eta1)) * math.Sqrt(math.Abs(eta2))
			} else {
				eta = eta2
			}
		}
		for j := range delta {
			delta[j] -= eta
		}
		tau += eta
		prew = w
		psi, dpsi, phi, dphi, erretm = eval()
		temp := z[ii] / delta[ii]
		dw = dpsi + dphi + temp*temp
		temp = z[ii] * temp
		w = rhoinv + phi + psi + temp
		erretm = 8*(phi-psi) + erretm + 2*rhoinv + 3*math.Abs(temp) + math.Abs(tau)*dw
		if w*prew > 0 && math.Abs(w) > math.Abs(prew)/10 {
			swtch = !swtch
		}
	}
	return done(), false
}

// laed5 is laed4 for n == 2 (LAPACK's dlaed5): it returns the i-th
// eigenvalue of diag(d) + rho z zᵀ and stores its unit eigenvector in delta.
func laed5(i int, d, z, delta []float64, rho float64) float64 {
	del := d[1] - d[0]
	var dlam float64
	if i == 0 {
		w := 1 + 2*rho*(z[1]*z[1]-z[0]*z[0])/del
		if w > 0 {
			b := del + rho*(z[0]*z[0]+z[1]*z[1])
			c := rho * z[0] * z[0] * del
			// b > 0 always.
			tau := 2 * c / (b + math.Sqrt(math.Abs(b*b-4*c)))
			dlam = d[0] + tau
			delta[0] = -z[0] / tau
			delta[1] = z[1] / (del - tau)
		} else {
			b := -del + rho*(z[0]*z[0]+z[1]*z[1])
			c := rho * z[1] * z[1] * del
			var tau float64
			if b > 0 {
				tau = -2 * c / (b + math.Sqrt(b*b+4*c))
			} else {
				tau = (b - math.Sqrt(b*b+4*c)) / 2
			}
			dlam = d[1] + tau
			delta[0] = -z[0] / (del + tau)
			delta[1] = -z[1] / tau
		}
	} else {
		b := -del + rho*(z[0]*z[0]+z[1]*z[1])
		c := rho * z[1] * z[1] * del
		var tau float64
		if b > 0 {
			tau = (b + math.Sqrt(b*b+4*c)) / 2
		} else {
			tau = 2 * c / (-b + math.Sqrt(b*b+4*c))
		}
		dlam = d[1] + tau
		delta[0] = -z[0] / (del + tau)
		delta[1] = -z[1] / tau
	}
	temp := math.Sqrt(delta[0]*delta[0] + delta[1]*delta[1])
	delta[0] /= temp
	delta[1] /= temp
	return dlam
}

// laed6 computes one Gragg-Thornton-Warner step towards the root of
// finit + rho + Σ z[k]/(d[k]-x) nearest the origin, as LAPACK's dlaed6
// does, and returns it. ok is false without convergence.
func laed6(kniter int, orgati bool, rho float64, d, z []float64, finit float64) (tau float64, ok bool) {
	d, z = d[:3], z[:3]
	var lbd, ubd float64
	if orgati {
		lbd, ubd = d[1], d[2]
	} else {
		lbd, ubd = d[0], d[1]
	}
	if finit < 0 {
		lbd = 0
	} else {
		ubd = 0
	}
	if kniter == 2 {
		var a, b, c float64
		if orgati {
			temp := (d[2] - d[1]) / 2
			c = rho + z[0]/((d[0]-d[1])-temp)
			a = c*(d[1]+d[2]) + z[1] + z[2]
			b = c*d[1]*d[2] + z[1]*d[2] + z[2]*d[1]
		} else {
			temp := (d[0] - d[1]) / 2
			c = rho + z[2]/((d[2]-d[1])-temp)
			a = c*(d[0]+d[1]) + z[0] + z[1]
			b = c*d[0]*d[1] + z[0]*d[1] + z[1]*d[0]
		}
		temp := math.Max(math.Abs(a), math.Max(math.Abs(b), math.Abs(c)))
		a /= temp
		b /= temp
		c /= temp
		switch {
		case c == 0:
			tau = b / a
		case a <= 0:
			tau = (a - math.Sqrt(math.Abs(a*a-4*b*c))) / (2 * c)
		default:
			tau = 2 * b / (a + math.Sqrt(math.Abs(a*a-4*b*c)))
		}
		if tau < lbd || tau > ubd {
			tau = (lbd + ubd) / 2
		}
		if d[0] == tau || d[1] == tau || d[2] == tau {
			tau = 0
		} else {
			temp := finit + tau*z[0]/(d[0]*(d[0]-tau)) +
				tau*z[1]/(d[1]*(d[1]-tau)) +
				tau*z[2]/(d[2]*(d[2]-tau))
			if temp <= 0 {
				lbd = tau
			} else {
				ubd = tau
			}
			if math.Abs(finit) <= math.Abs(temp) {
				tau = 0
			}
		}
	}

	// Scale up when 1/(d-tau)^3 could overflow.
	var temp float64
	if orgati {
		temp = math.Min(math.Abs(d[1]-tau), math.Abs(d[2]-tau))
	} else {
		temp = math.Min(math.Abs(d[0]-tau), math.Abs(d[1]-tau))
	}
	var dscale, zscale [3]float64
	scale := false
	sclinv := 1.0
	if temp <= small1 {
		scale = true
		sclfac := sminv1
		sclinv = small1
		if temp <= small2 {
			sclfac = sminv2
			sclinv = small2
		}
		for k := 0; k < 3; k++ {
			dscale[k] = d[k] * sclfac
			zscale[k] = z[k] * sclfac
		}
		tau *= sclfac
		lbd *= sclfac
		ubd *= sclfac
	} else {
		copy(dscale[:], d)
		copy(zscale[:], z)
	}
	unscale := func(t float64) float64 {
		if scale {
			return t * sclinv
		}
		return t
	}

	var fc, df, ddf float64
	for k := 0; k < 3; k++ {
		temp := 1 / (dscale[k] - tau)
		temp1 := zscale[k] * temp
		temp2 := temp1 * temp
		temp3 := temp2 * temp
		fc += temp1 / dscale[k]
		df += temp2
		ddf += temp3
	}
	f := finit + tau*fc
	if math.Abs(f) <= 0 {
		return unscale(tau), true
	}
	if f <= 0 {
		lbd = tau
	} else {
		ubd = tau
	}

	// Gragg-Thornton-Warner cubically convergent iteration.
	for niter := 2; niter <= maxitLaed6; niter++ {
		var temp1, temp2 float64
		if orgati {
			temp1 = dscale[1] - tau
			temp2 = dscale[2] - tau
		} else {
			temp1 = dscale[0] - tau
			temp2 = dscale[1] - tau
		}
		a := (temp1+temp2)*f - temp1*temp2*df
		b := temp1 * temp2 * f
		c := f - (temp1+temp2)*df + temp1*temp2*ddf
		temp := math.Max(math.Abs(a), math.Max(math.Abs(b), math.Abs(c)))
		a /= temp
		b /= temp
		c /= temp
		var eta float64
		switch {
		case c == 0:
			eta = b / a
		case a <= 0:
			eta = (a - math.Sqrt(math.Abs(a*a-4*b*c))) / (2 * c)
		default:
			eta = 2 * b / (a + math.Sqrt(math.Abs(a*a-4*b*c)))
		}
		if f*eta >= 0 {
			eta = -f / df
		}
		tau += eta
		if tau < lbd || tau > ubd {
			tau = (lbd + ubd) / 2
		}
		fc, df, ddf = 0, 0, 0
		erretm := 0.0
		for k := 0; k < 3; k++ {
			if dscale[k]-tau == 0 {
				return unscale(tau), true
			}
			temp := 1 / (dscale[k] - tau)
			temp1 := zscale[k] * temp
			temp2 := temp1 * temp
			temp3 := temp2 * temp
			temp4 := temp1 / dscale[k]
			fc += temp4
			erretm += math.Abs(temp4)
			df += temp2
			ddf += temp3
		}
		f = finit + tau*fc
		erretm = 8*(math.Abs(finit)+math.Abs(tau)*erretm) + math.Abs(tau)*df
		if math.Abs(f) <= 4*eps*erretm || ubd-lbd <= 4*eps*math.Abs(tau) {
			return unscale(tau), true
		}
		if f <= 0 {
			lbd = tau
		} else {
			ubd = tau
		}
	}
	return unscale(tau), false
}
