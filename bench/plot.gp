# Pictures of bench/run.py's results (needs gnuplot's pngcairo terminal, as in gnuplot-nox).
#   gnuplot -e "resdir='bench/results'" bench/plot.gp
# memory.dat -> memory.png: RSS/PSS per shim, ours vs the Go runc shim, 1 and 20 running.
# latency.dat -> latency.png: ctr run --rm and ctr task exec (ours) vs bare runsc.
# A missing .dat (a run with --only) is skipped.

if (!exists("resdir")) resdir = "bench/results"
have(f) = system("test -s '" . f . "' && echo 1 || echo 0") eq "1"
ours = "#2b7bba"
other = "#d95f02"

set terminal pngcairo size 960,540 font "DejaVu Sans,10" noenhanced
set style data histograms
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left box opaque

mem = resdir . "/memory.dat"
if (have(mem)) {
  set output resdir . "/memory.png"
  set title "Shim memory per container (shim process + helpers; /proc/PID/smaps_rollup)"
  set style histogram clustered gap 1
  set logscale y
  set yrange [0.05:100]
  set ylabel "MiB per shim (log scale)"
  # Budget: RSS <= 2 MB per idle shim; PSS <= 0.5 MB per container with 20 running.
  # Groups (rows of memory.dat): 0 RSS/1, 1 PSS/1, 2 RSS/20, 3 PSS/20.
  set arrow 1 from -0.45, 2 to 0.45, 2 nohead dt 2 lw 2 lc rgb "red" front
  set arrow 2 from 1.55, 2 to 2.45, 2 nohead dt 2 lw 2 lc rgb "red" front
  set arrow 3 from 2.55, 0.5 to 3.45, 0.5 nohead dt 2 lw 2 lc rgb "red" front
  plot mem using 2:xtic(1) title "runsc shim (ours)" lc rgb ours, \
       '' using 3 title "Go containerd-shim-runc-v2 (runc)" lc rgb other, \
       '' using ($0 - 0.17):2:(sprintf("%.2f", $2)) with labels offset 0,0.8 notitle, \
       '' using ($0 + 0.17):3:(sprintf("%.2f", $3)) with labels offset 0,0.8 notitle, \
       NaN with lines dt 2 lw 2 lc rgb "red" title "budget"
  unset arrow
  unset logscale y
  set yrange [*:*]
}

lat = resdir . "/latency.dat"
if (have(lat)) {
  set output resdir . "/latency.png"
  set title "Latency: bars are medians, whiskers run from min to p90"
  set style histogram errorbars gap 1 lw 1
  set yrange [0:*]
  set ylabel "milliseconds"
  plot lat using 2:3:4:xtic(1) title "runsc shim (ours) via ctr" lc rgb ours, \
       '' using 5:6:7 title "bare runsc (create/start/reap/delete; runsc exec)" lc rgb other, \
       '' using ($0 - 0.17):($2 / 2):(sprintf("%.0f", $2)) with labels tc rgb "white" notitle, \
       '' using ($0 + 0.17):($5 / 2):(sprintf("%.0f", $5)) with labels tc rgb "white" notitle
}
