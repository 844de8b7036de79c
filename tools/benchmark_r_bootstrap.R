# R side of tools/benchmark.py: the optimism bootstrap's modelling procedure in R, timed.
#
#   Rscript tools/benchmark_r_bootstrap.R DATA.csv B CORES SEED CANDIDATES EXCLUDE TIME:EVENT[,TIME:EVENT...]
#
# In each of B resamples (rows drawn with replacement) of every endpoint: univariable
# survival::coxph per candidate, screening by the joint Wald p < 0.10, then
# MASS::stepAIC(direction = "both") from the Cox model of the screened terms -- the
# procedure tools/benchmark.py times in crlmflow (without the performance measures crlmflow
# also computes in each replicate).  The B x endpoints resamples run over CORES forked
# processes (parallel::mclapply).  Prints "elapsed <wall s>", "cpu <user + system s of this
# process and its children>" and, per endpoint, "selected_mean <endpoint> <mean number of
# terms selected>".
suppressPackageStartupMessages({
  library(survival)
  library(MASS)
  library(parallel)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 7) stop("usage: DATA.csv B CORES SEED CANDIDATES EXCLUDE TIME:EVENT[,...]")
dat <- read.csv(args[1])
B <- as.integer(args[2])
cores <- as.integer(args[3])
seed <- as.integer(args[4])
cands <- strsplit(args[5], ",")[[1]]
excl <- strsplit(args[6], ",")[[1]]
eps <- lapply(strsplit(strsplit(args[7], ",")[[1]], ":"), function(x) x)

surv_lhs <- function(ep) paste0("Surv(", ep[1], ", ", ep[2], ") ~ ")

wald_p <- function(fit) {
  b <- coef(fit)
  if (any(!is.finite(b))) return(NA_real_)
  V <- vcov(fit)
  pchisq(drop(t(b) %*% solve(V, b)), length(b), lower.tail = FALSE)
}

procedure <- function(d, ep) {
  # the resample lives in the global environment of this (forked) process, so that
  # stepAIC's update() of the model call finds it
  assign(".boot_d", d, envir = globalenv())
  p <- vapply(cands, function(v) {
    f <- tryCatch(coxph(as.formula(paste0(surv_lhs(ep), v)), data = .boot_d), error = function(e) NULL)
    if (is.null(f)) NA_real_ else wald_p(f)
  }, numeric(1))
  pool <- setdiff(cands[!is.na(p) & p < 0.10], excl)
  if (!length(pool)) return(0L)
  full <- coxph(as.formula(paste0(surv_lhs(ep), paste(pool, collapse = " + "))), data = .boot_d)
  sel <- stepAIC(full, direction = "both", trace = 0)
  length(attr(terms(sel), "term.labels"))
}

set.seed(seed)
tasks <- expand.grid(b = seq_len(B), k = seq_along(eps))
draws <- lapply(seq_len(nrow(tasks)), function(i) sample.int(nrow(dat), nrow(dat), replace = TRUE))
t0 <- proc.time()
n_sel <- mclapply(seq_len(nrow(tasks)), function(i) {
  procedure(dat[draws[[i]], , drop = FALSE], eps[[tasks$k[i]]])
}, mc.cores = cores, mc.preschedule = TRUE)
t1 <- proc.time() - t0
bad <- vapply(n_sel, function(x) inherits(x, "try-error"), logical(1))
if (any(bad)) stop("the R procedure failed in ", sum(bad), " resamples: ", as.character(n_sel[bad][[1]]))
cat(sprintf("elapsed %.3f\n", t1[["elapsed"]]))
cpu <- sum(t1[c("user.self", "sys.self")]) + sum(t1[c("user.child", "sys.child")], na.rm = TRUE)
cat(sprintf("cpu %.3f\n", cpu))
for (k in seq_along(eps)) {
  cat(sprintf("selected_mean %s %.3f\n", eps[[k]][1], mean(unlist(n_sel[tasks$k == k]))))
}
